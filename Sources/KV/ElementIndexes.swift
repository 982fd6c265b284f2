import Encryption
import Storage

/// The element indexes collections name their rows with (docs/formats.md §2a): the one a collection recorded
/// when it was created, and the one a new collection gets — the cluster's index key once it has one, the
/// unkeyed index before. Every replica answers the same at the same log position, since the index key is
/// installed by a replicated entry.
public struct ElementIndexes: Sendable {
    let keystore: Keystore?

    /// The bytes of an element name (``ElementIndex/nameByteCount``).
    public static let nameByteCount = ElementIndex.nameByteCount

    /// Without a keystore (a node without encryption): only the unkeyed index.
    public init(keystore: Keystore? = nil) {
        self.keystore = keystore
    }

    /// The index new collections are created with.
    public var current: ElementIndex {
        guard let keystore, let id = keystore.activeKeyID(for: .index), let index = keystore.elementIndex(keyID: id)
        else { return .unkeyed }
        return index
    }

    /// The index with key id `keyID` (0: unkeyed).
    ///
    /// - Throws: ``StorageError/sealerUnavailable`` when this node does not hold that index key.
    func index(_ keyID: KeyID) throws(StorageError) -> ElementIndex {
        if keyID == 0 { return .unkeyed }
        guard let index = keystore?.elementIndex(keyID: keyID) else { throw StorageError.sealerUnavailable }
        return index
    }
}
