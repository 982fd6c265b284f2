import Encryption
import Storage

/// The writer registry kept in the store's `writer_registry` table.
///
/// During apply the state machine points it at the batch's transaction, so rows commit atomically with the
/// applied index; outside apply (start-up checks) it reads the committed rows and refuses writes.
public final class StoreWriterRegistry: WriterRegistryStore {
    let store: MVCCStore
    var transaction: WriteTransaction?

    public init(store: MVCCStore) {
        self.store = store
    }

    public func row(for key: WriterRegistryKey) throws(WriterRegistryStoreError) -> WriterRegistryRow? {
        let row: RegistryRow?
        do throws(StorageError) {
            if let transaction {
                row = try transaction.registryRow(dekID: key.dekID, node16: key.node16)
            } else {
                row = try store.registryRow(dekID: key.dekID, node16: key.node16)
            }
        } catch {
            throw WriterRegistryStoreError(operation: "read \(key)", reason: error.description)
        }
        return row.map {
            WriterRegistryRow(fullNodeID: $0.fullNodeID, firstSeenLocalEpoch: $0.firstSeenLocalEpoch,
                              lastSeenLocalEpoch: $0.lastSeenLocalEpoch)
        }
    }

    public func setRow(_ row: WriterRegistryRow, for key: WriterRegistryKey) throws(WriterRegistryStoreError) {
        let transaction = try requireTransaction("write \(key)")
        do throws(StorageError) {
            try transaction.setRegistryRow(RegistryRow(
                dekID: key.dekID, node16: key.node16, fullNodeID: row.fullNodeID,
                firstSeenLocalEpoch: row.firstSeenLocalEpoch, lastSeenLocalEpoch: row.lastSeenLocalEpoch))
        } catch {
            throw WriterRegistryStoreError(operation: "write \(key)", reason: error.description)
        }
    }

    public func removeRows(dekID: KeyID) throws(WriterRegistryStoreError) {
        let transaction = try requireTransaction("remove rows of key \(dekID)")
        do throws(StorageError) { try transaction.removeRegistryRows(dekID: dekID) } catch {
            throw WriterRegistryStoreError(operation: "remove rows of key \(dekID)", reason: error.description)
        }
    }

    private func requireTransaction(_ operation: String) throws(WriterRegistryStoreError) -> WriteTransaction {
        guard let transaction else {
            throw WriterRegistryStoreError(operation: operation, reason: "registry rows change only during apply")
        }
        return transaction
    }
}
