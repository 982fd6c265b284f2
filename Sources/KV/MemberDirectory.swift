import Storage

/// The replicated directory of member names and gRPC addresses, kept in the store's internal metadata.
///
/// Raft's configuration knows members by id only; the directory lets every member (and one that joins
/// later, through the log or a snapshot) find the others' addresses.
public enum MemberDirectory {
    /// The longest name or address accepted.
    public static let maxFieldBytes = 1024

    /// One entry of the directory.
    public struct Member: Hashable, Sendable {
        public var id: UInt64
        public var name: String
        public var address: String

        public init(id: UInt64, name: String, address: String) {
            self.id = id
            self.name = name
            self.address = address
        }
    }

    static let prefix = "member/"

    static func metaName(_ id: UInt64) -> String { prefix + String(id) }

    static func encode(name: [UInt8], address: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBlob(name)
        bytes.appendBlob(address)
        return bytes
    }

    /// Every member the directory holds, as last committed.
    public static func members(in store: MVCCStore) throws(StorageError) -> [Member] {
        try store.metaEntries(withPrefix: prefix).compactMap { name, value in
            guard let id = UInt64(name.dropFirst(prefix.count)) else { return nil }
            var reader = BinaryReader(value[...])
            guard let memberName = try? reader.blob(limit: maxFieldBytes),
                  let address = try? reader.blob(limit: maxFieldBytes)
            else { return nil }
            return Member(id: id, name: String(decoding: memberName, as: UTF8.self),
                          address: String(decoding: address, as: UTF8.self))
        }
    }
}
