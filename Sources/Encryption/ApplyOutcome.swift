/// What applying an encryption entry did, when it did not halt.
public enum ApplyOutcome: Sendable, Hashable {
    /// The entry's effect is now in the keystore, sidecar and registry.
    case applied
    /// The state already held the entry's effect (a replay, or the same entry committed twice); nothing changed
    /// except registry rows a replay had to restore.
    case alreadyApplied
    /// The entry was proposed against state that has changed since: a rotation whose replaced key is no longer
    /// active (proposed twice, or overtaken by another rotation), or a rewrap whose keys were all retired.
    /// Nothing changed; the proposer may propose again against the current state.
    case superseded
    /// The writer-registry rules refused a registration of the entry; nothing changed. The node that asked for
    /// it must not seal with the refused nonce prefix.
    case rejected(WriterRegistryError)
}
