/// Where the writer registry's rows live: the FSM's store in a node, memory in tests.
///
/// The rows are replicated state, so a node must persist them atomically with the FSM's applied index: after
/// a crash the store then never holds the effect of an entry that will be applied again.
public protocol WriterRegistryStore: AnyObject {
    /// The row under `key`, if any.
    func row(for key: WriterRegistryKey) throws(WriterRegistryStoreError) -> WriterRegistryRow?

    /// Inserts or replaces the row under `key`.
    func setRow(_ row: WriterRegistryRow, for key: WriterRegistryKey) throws(WriterRegistryStoreError)

    /// Deletes every row of a DEK (its retirement).
    func removeRows(dekID: KeyID) throws(WriterRegistryStoreError)
}
