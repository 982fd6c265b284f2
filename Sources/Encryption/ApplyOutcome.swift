/// What applying an encryption entry did, when it did not halt.
public enum ApplyOutcome: Sendable, Hashable {
    /// The entry's effect is now in the keystore, sidecar and registry.
    case applied
    /// The state already held the entry's effect (a replay, or the same entry committed twice); nothing changed
    /// except registry rows a replay had to restore.
    case alreadyApplied
    /// A rotation whose replaced key is no longer the active one (proposed twice, or overtaken by another
    /// rotation); nothing changed. The proposer may propose a new rotation against the current state.
    case superseded
    /// The writer-registry rules refused a registration of the entry; nothing changed. The node that asked for
    /// it must not seal with the refused nonce prefix.
    case rejected(WriterRegistryError)
}
