import Synchronization

/// A ``WriterRegistryStore`` in memory, for tests and tools. Thread-safe.
public final class InMemoryWriterRegistryStore: WriterRegistryStore, Sendable {
    private let rows = Mutex<[WriterRegistryKey: WriterRegistryRow]>([:])

    public init() {}

    public func row(for key: WriterRegistryKey) throws(WriterRegistryStoreError) -> WriterRegistryRow? {
        rows.withLock { $0[key] }
    }

    public func setRow(_ row: WriterRegistryRow, for key: WriterRegistryKey) throws(WriterRegistryStoreError) {
        rows.withLock { $0[key] = row }
    }

    public func removeRows(dekID: KeyID) throws(WriterRegistryStoreError) {
        rows.withLock { rows in rows = rows.filter { $0.key.dekID != dekID } }
    }

    /// Every row, for assertions.
    public var allRows: [WriterRegistryKey: WriterRegistryRow] {
        rows.withLock { $0 }
    }
}
