import DurableIO

extension DurableLog {
    /// Persists the hard state crash-atomically before the core may act on it.
    ///
    /// Written as `hardstate.tmp`, fsynced, renamed over `hardstate`, and the directory fsynced: after a
    /// crash the file holds either the previous or the new state, never a mix. The encoding is decoded back
    /// before writing.
    ///
    /// - Precondition: the term never decreases.
    /// - Throws: I/O errors; the log is then failed.
    public func setHardState(_ state: HardState) throws(RaftLogError) {
        try checkUsable()
        precondition(state.term >= hardState.term, "hard state term went back from \(hardState.term) to \(state.term)")
        guard state != hardState else { return }
        let bytes = HardStateCodec.encode(state)
        precondition((try? HardStateCodec.decode(bytes)) == state, "hard state encoding does not decode back")
        try failing { () throws(RaftLogError) in
            try writeAtomically(bytes, to: hardStatePath, directory: directory)
        }
        hardState = state
    }
}
