extension Entry {
    /// Fixed per-entry overhead counted by the byte limits (term, index, kind).
    public static let headerBytes = 17
}
