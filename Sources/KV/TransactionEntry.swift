import DurableIO
import RESP
import Storage

/// A MULTI/EXEC transaction as one Raft entry (opcode 0x06), applied atomically on every replica.
///
/// ```
/// 0x06 ‖ version u8 = 1 ‖ proposed_ts u64 ‖ now_ms u64
///      ‖ watch_count u32 ‖ (key blob ‖ version u64 ‖ flags u8 ‖ expire_at u64) × watch_count
///      ‖ command_count u32 ‖ (argc u32 ‖ argument blob × argc) × command_count
/// ```
/// A blob is a u32 length then the bytes. Each command is the argument vector the client sent (a data
/// command only: connection commands are answered by the connection). Apply checks the watches, then parses
/// and runs every command in order with the entry's clock (see ``TransactionApplier``). Every length is
/// checked against ``Limits``; trailing bytes are an error.
public struct TransactionEntry: Hashable, Sendable {
    public enum Limits {
        public static let maxWatches = 10_000
        public static let maxCommands = CommandEntry.Limits.maxCommandsPerBatch
        public static let maxArguments = CommandEntry.Limits.maxItemsPerCommand
    }

    public static let formatVersion: UInt8 = 1

    /// A key as WATCH saw it: its row key (database included, docs/formats.md §2a), the commit timestamp of
    /// its newest version (0: none), whether that version was live, and its TTL deadline.
    public struct Watch: Hashable, Sendable {
        public var key: [UInt8]
        public var version: UInt64
        public var wasLive: Bool
        public var expireAtMillis: UInt64

        public init(key: [UInt8], version: UInt64, wasLive: Bool, expireAtMillis: UInt64) {
            self.key = key
            self.version = version
            self.wasLive = wasLive
            self.expireAtMillis = expireAtMillis
        }

        /// Whether the key changed since WATCH, as Redis counts it: a newer version was written (even one
        /// with the same value, or a delete), or a key live at WATCH has expired at `nowMillis`. A newest
        /// version that garbage collection removed (a deleted key) is no change.
        /// WATCH's record of `key`, whose newest version is `newest`, at `nowMillis`.
        public init(key: [UInt8], newest: StoredVersion?, nowMillis: UInt64) {
            self.init(key: key, version: newest?.commitTS ?? 0, wasLive: newest?.isVisible(atMillis: nowMillis) ?? false,
                      expireAtMillis: newest?.expireAtMillis ?? 0)
        }

        public func changed(newestCommitTS: UInt64?, nowMillis: UInt64) -> Bool {
            if let newestCommitTS, newestCommitTS != version { return true }
            if newestCommitTS == nil, wasLive { return true }
            return wasLive && expireAtMillis != 0 && expireAtMillis <= nowMillis
        }
    }

    /// EXEC's answer from the entry's results: the replies of its commands, or nil when a watched key had
    /// changed (nothing was applied).
    public static func replies(from results: [CommandResult]) -> [RESPValue]?? {
        guard results.count == 1, case .reply(let reply) = results[0] else { return .none }
        switch reply {
        case .nullArray: return .some(nil)
        case .array(let replies): return .some(replies)
        default: return .none
        }
    }

    public var proposedTS: UInt64
    public var nowMillis: UInt64
    public var watches: [Watch]
    public var commands: [[[UInt8]]]

    public init(proposedTS: UInt64, nowMillis: UInt64, watches: [Watch], commands: [[[UInt8]]]) {
        self.proposedTS = proposedTS
        self.nowMillis = nowMillis
        self.watches = watches
        self.commands = commands
    }

    /// The entry as a proposer sends it: stamped with its clock reading, and the commit timestamp that clock
    /// proposes (microseconds, as command entries use).
    public func stamped(nowMillis: UInt64) -> TransactionEntry {
        var entry = self
        entry.nowMillis = nowMillis
        entry.proposedTS = nowMillis * 1000
        return entry
    }

    public func encoded() -> [UInt8] {
        var output: [UInt8] = [Opcode.transaction.rawValue, Self.formatVersion]
        output.appendBigEndian(proposedTS)
        output.appendBigEndian(nowMillis)
        output.appendBigEndian(UInt32(watches.count))
        for watch in watches {
            output.appendBlob(watch.key)
            output.appendBigEndian(watch.version)
            output.append(watch.wasLive ? 1 : 0)
            output.appendBigEndian(watch.expireAtMillis)
        }
        output.appendBigEndian(UInt32(commands.count))
        for arguments in commands {
            output.appendBigEndian(UInt32(arguments.count))
            for argument in arguments { output.appendBlob(argument) }
        }
        return output
    }

    public init(decoding payload: [UInt8]) throws(KVError) {
        var reader = BinaryReader(payload[...])
        do throws(BinaryReader.Failure) {
            guard try reader.uint8() == Opcode.transaction.rawValue else { throw .invalid("not a transaction entry") }
            let version = try reader.uint8()
            guard version == Self.formatVersion else { throw .invalid("unknown transaction format version \(version)") }
            proposedTS = try reader.uint64()
            nowMillis = try reader.uint64()
            let watchCount = Int(try reader.uint32())
            guard watchCount <= Limits.maxWatches else { throw .invalid("\(watchCount) watched keys") }
            watches = []
            for _ in 0..<watchCount {
                let key = try reader.blob(limit: CommandEntry.Limits.maxKeyBytes)
                let version = try reader.uint64()
                let flags = try reader.uint8()
                guard flags <= 1 else { throw .invalid("watch flags \(flags)") }
                watches.append(Watch(key: key, version: version, wasLive: flags == 1,
                                     expireAtMillis: try reader.uint64()))
            }
            let commandCount = Int(try reader.uint32())
            guard commandCount <= Limits.maxCommands else {
                throw .invalid("\(commandCount) commands in a transaction")
            }
            commands = []
            for _ in 0..<commandCount {
                let argumentCount = Int(try reader.uint32())
                guard argumentCount >= 1, argumentCount <= Limits.maxArguments else {
                    throw .invalid("a command of \(argumentCount) arguments")
                }
                var arguments: [[UInt8]] = []
                for _ in 0..<argumentCount {
                    arguments.append(try reader.blob(limit: CommandEntry.Limits.maxValueBytes))
                }
                commands.append(arguments)
            }
            try reader.expectEnd()
        } catch {
            throw KVError.malformedEntry(error.description)
        }
    }
}
