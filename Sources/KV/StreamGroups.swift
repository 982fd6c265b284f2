import DurableIO
import Storage

/// A consumer group of a stream (docs/formats.md §2a): where delivery stands and its consumers, by name.
public struct StreamGroup: Hashable, Sendable {
    public struct Consumer: Hashable, Sendable {
        public var name: [UInt8]
        public var seenAt: UInt64
        public var pending: UInt64
    }

    public var name: [UInt8]
    public var lastDelivered: StreamID
    /// nil: unknown (Redis's "entries-read" lag bookkeeping).
    public var entriesRead: UInt64?
    /// In name order.
    public var consumers: [Consumer]

    public var pending: UInt64 { consumers.reduce(0) { $0 + $1.pending } }

    public func consumerIndex(_ name: [UInt8]) -> Int? { consumers.firstIndex { $0.name == name } }

    /// The consumer `name`, added (seen at `now`) when missing; its index.
    mutating func consumer(_ name: [UInt8], now: UInt64) -> (index: Int, created: Bool) {
        if let index = consumerIndex(name) { return (index, false) }
        let index = consumers.firstIndex { !$0.name.lexicographicallyPrecedes(name) } ?? consumers.endIndex
        consumers.insert(Consumer(name: name, seenAt: now, pending: 0), at: index)
        return (index, true)
    }

    func encoded() -> [UInt8] {
        var output: [UInt8] = []
        output.appendBlob(name)
        lastDelivered.encode(into: &output)
        output.appendBigEndian(entriesRead ?? .max)
        output.appendBigEndian(UInt32(consumers.count))
        for consumer in consumers {
            output.appendBlob(consumer.name)
            output.appendBigEndian(consumer.seenAt)
            output.appendBigEndian(consumer.pending)
        }
        return output
    }

    init(name: [UInt8], lastDelivered: StreamID, entriesRead: UInt64?, consumers: [Consumer] = []) {
        self.name = name
        self.lastDelivered = lastDelivered
        self.entriesRead = entriesRead
        self.consumers = consumers
    }

    public init(decoding body: [UInt8]) throws(StorageError) {
        var reader = BinaryReader(body[...])
        do throws(BinaryReader.Failure) {
            name = try reader.bytes(count: Int(try reader.uint32()))
            lastDelivered = try StreamID.decode(&reader)
            let read = try reader.uint64()
            entriesRead = read == .max ? nil : read
            let count = Int(try reader.uint32())
            guard count <= body.count / 20 else { throw BinaryReader.Failure.invalid("consumer count") }
            consumers = []
            for _ in 0..<count {
                let name = try reader.bytes(count: Int(try reader.uint32()))
                consumers.append(Consumer(name: name, seenAt: try reader.uint64(), pending: try reader.uint64()))
            }
            try reader.expectEnd()
        } catch {
            throw StorageError.corruptRecord(reason: "a stream group row is malformed: \(error)")
        }
    }
}

/// One entry of a group's pending entries list.
public struct PendingEntry: Hashable, Sendable {
    public var id: StreamID
    public var consumer: [UInt8]
    public var deliveredAt: UInt64
    public var deliveries: UInt64

    func body() -> [UInt8] {
        var output: [UInt8] = []
        output.appendBlob(consumer)
        output.appendBigEndian(deliveredAt)
        output.appendBigEndian(deliveries)
        return output
    }

    static func decode(_ body: [UInt8], id: StreamID) throws(StorageError) -> PendingEntry {
        var reader = BinaryReader(body[...])
        do throws(BinaryReader.Failure) {
            let consumer = try reader.bytes(count: Int(try reader.uint32()))
            let entry = PendingEntry(id: id, consumer: consumer, deliveredAt: try reader.uint64(),
                                     deliveries: try reader.uint64())
            try reader.expectEnd()
            return entry
        } catch {
            throw StorageError.corruptRecord(reason: "a stream pending entry row is malformed: \(error)")
        }
    }
}

/// The error lines Redis answers consumer-group commands with (the key and group as the client gave them).
public enum StreamGroupErrors {
    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// XGROUP on a missing key (without CREATE … MKSTREAM).
    public static let missingKey = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
        + "want to use the MKSTREAM option to create an empty stream automatically."

    /// XGROUP SETID, CREATECONSUMER, DELCONSUMER on a missing group.
    public static func noSuchGroup(key: [UInt8], group: [UInt8]) -> String {
        "NOGROUP No such consumer group '\(text(group))' for key name '\(text(key))'"
    }

    /// XPENDING, XCLAIM, XAUTOCLAIM (and XREADGROUP, `readGroup`) on a missing key or group.
    public static func noSuchKeyOrGroup(key: [UInt8], group: [UInt8], readGroup: Bool = false) -> String {
        "NOGROUP No such key '\(text(key))' or consumer group '\(text(group))'"
            + (readGroup ? " in XREADGROUP with GROUP option" : "")
    }
}

/// Where a group starts or restarts delivery: an id, or `$` (the stream's last id).
public enum StreamGroupStart: Hashable, Sendable {
    case id(StreamID)
    case latest
}

/// XREADGROUP's id for one stream: `>` (new entries) or an id (the consumer's pending entries after it).
public enum StreamGroupReadID: Hashable, Sendable {
    case new
    case history(StreamID)
}

/// The consumer-group commands (all change state: XREADGROUP moves delivery and the pending lists).
public enum StreamGroupCommand: Hashable, Sendable {
    case create(key: [UInt8], group: [UInt8], start: StreamGroupStart, makeStream: Bool, entriesRead: UInt64?)
    case destroy(key: [UInt8], group: [UInt8])
    case createConsumer(key: [UInt8], group: [UInt8], consumer: [UInt8])
    case deleteConsumer(key: [UInt8], group: [UInt8], consumer: [UInt8])
    case setID(key: [UInt8], group: [UInt8], start: StreamGroupStart, entriesRead: UInt64?)
    /// XREADGROUP: `count` 0 is every entry.
    case read(group: [UInt8], consumer: [UInt8], keys: [[UInt8]], ids: [StreamGroupReadID], count: Int, noAck: Bool)
    case acknowledge(key: [UInt8], group: [UInt8], ids: [StreamID])
    /// XCLAIM: pending entries idle at least `minIdle` ms move to `consumer`.
    case claim(key: [UInt8], group: [UInt8], consumer: [UInt8], minIdle: UInt64, ids: [StreamID], options: StreamClaimOptions)
    /// XAUTOCLAIM: up to `count` entries idle at least `minIdle` ms from `start` in the pending list move to
    /// `consumer`; answers the cursor, the entries and the ids of entries found deleted.
    case autoClaim(key: [UInt8], group: [UInt8], consumer: [UInt8], minIdle: UInt64, start: StreamID, count: Int,
                   justID: Bool)

    public var keys: [[UInt8]] {
        switch self {
        case .create(let key, _, _, _, _), .destroy(let key, _), .createConsumer(let key, _, _),
             .deleteConsumer(let key, _, _), .setID(let key, _, _, _), .acknowledge(let key, _, _),
             .claim(let key, _, _, _, _, _), .autoClaim(let key, _, _, _, _, _, _):
            return [key]
        case .read(_, _, let keys, _, _, _): return keys
        }
    }
}

/// XCLAIM's options: the new delivery time (IDLE ms ago, or TIME; now without either), RETRYCOUNT, FORCE,
/// JUSTID, LASTID.
public struct StreamClaimOptions: Hashable, Sendable {
    public enum Delivery: Hashable, Sendable {
        case now
        case idle(Int64)
        case time(Int64)
    }

    public var delivery: Delivery = .now
    public var retryCount: UInt64?
    public var force = false
    public var justID = false
    public var lastID: StreamID?

    public init() {}
}

/// The element parts of group rows (docs/formats.md §2a).
enum StreamGroupParts {
    static func group(_ name: [UInt8]) -> [UInt8] { [0x01] + name }

    static func pending(_ name: [UInt8], _ id: StreamID) -> [UInt8] {
        var part: [UInt8] = [0x02] + name
        id.encode(into: &part)
        return part
    }

    static func pendingEnd(_ name: [UInt8]) -> [UInt8] {
        var end = [0x02] + name
        // The name is 16 bytes: the next name's rows start after every id of this one.
        end.append(contentsOf: [UInt8](repeating: 0xFF, count: 17))
        return end
    }
}

extension ElementRows {
    func groupName(_ header: StreamHeader, _ group: [UInt8]) throws(StorageError) -> [UInt8] {
        try elementIndexes.index(header.indexKeyID).name(group)
    }

    /// The group `group` of the stream; nil when there is none.
    public func streamGroup(_ header: StreamHeader, _ group: [UInt8]) throws(StorageError) -> StreamGroup? {
        let name = try groupName(header, group)
        guard let body = try elementRow(of: header.generation, part: StreamGroupParts.group(name)) else { return nil }
        let stored = try StreamGroup(decoding: body)
        guard stored.name == group else { throw StorageError.corruptRecord(reason: "two stream groups share a name") }
        return stored
    }

    /// The group's pending entries with ids in `low…high`, in id order, at most `limit`.
    public func pendingEntries(_ header: StreamHeader, _ group: [UInt8], from low: StreamID, to high: StreamID,
                               limit: Int) throws(StorageError) -> [PendingEntry] {
        let name = try groupName(header, group)
        guard low <= high, limit > 0 else { return [] }
        let end = high.next.map { StreamGroupParts.pending(name, $0) } ?? StreamGroupParts.pendingEnd(name)
        var entries: [PendingEntry] = []
        var from = StreamGroupParts.pending(name, low)
        while entries.count < limit {
            let wanted = Swift.min(Self.elementBatch, limit - entries.count)
            let rows = try elementRows(of: header.generation, from: from, to: end, limit: wanted)
            for row in rows {
                var reader = BinaryReader(row.part.dropFirst(17)[...])
                guard let id = try? StreamID.decode(&reader) else { continue }
                entries.append(try PendingEntry.decode(row.body, id: id))
            }
            guard rows.count == wanted, let last = rows.last else { break }
            from = last.part + [0]
        }
        return entries
    }
}
