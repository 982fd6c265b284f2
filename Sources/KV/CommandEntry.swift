import DurableIO

/// The FSM payload of opcodes 0x00 (one command) and 0x01 (a batch), with its binary codec.
///
/// ```
/// opcode u8 (0x00 | 0x01) ‖ version u8 = 1 ‖ proposed_ts u64 ‖ now_ms u64 ‖ body
/// body (0x00)  command
/// body (0x01)  count u32 ‖ command × count
/// ```
/// Commands are described in `docs/formats.md`. Every length is checked against ``Limits``; trailing bytes
/// are an error.
public struct CommandEntry: Hashable, Sendable {
    /// Named limits of the codec.
    public enum Limits {
        public static let maxKeyBytes = 1 << 20
        public static let maxValueBytes = 64 << 20
        public static let maxItemsPerCommand = 100_000
        public static let maxCommandsPerBatch = 10_000
    }

    public static let formatVersion: UInt8 = 1

    /// The proposer's commit timestamp; apply raises it to keep timestamps strictly increasing.
    public var proposedTS: UInt64
    /// The proposer's clock when it proposed, used for TTL decisions in apply.
    public var nowMillis: UInt64
    public var commands: [Command]

    public init(proposedTS: UInt64, nowMillis: UInt64, commands: [Command]) {
        self.proposedTS = proposedTS
        self.nowMillis = nowMillis
        self.commands = commands
    }

    /// Encodes as opcode 0x00 when there is one command, 0x01 otherwise.
    public func encoded() -> [UInt8] {
        var output: [UInt8] = [commands.count == 1 ? Opcode.command.rawValue : Opcode.batch.rawValue]
        output.append(Self.formatVersion)
        output.appendBigEndian(proposedTS)
        output.appendBigEndian(nowMillis)
        if commands.count != 1 { output.appendBigEndian(UInt32(commands.count)) }
        for command in commands { CommandCodec.encode(command, into: &output) }
        return output
    }

    /// Decodes a 0x00 or 0x01 payload.
    public init(decoding payload: [UInt8]) throws(KVError) {
        var reader = BinaryReader(payload[...])
        do throws(BinaryReader.Failure) {
            let opcode = try reader.uint8()
            guard opcode == Opcode.command.rawValue || opcode == Opcode.batch.rawValue else {
                throw .invalid("opcode \(opcode) is not a command entry")
            }
            let version = try reader.uint8()
            guard version == Self.formatVersion else { throw .invalid("unknown command format version \(version)") }
            proposedTS = try reader.uint64()
            nowMillis = try reader.uint64()
            var count = 1
            if opcode == Opcode.batch.rawValue {
                count = Int(try reader.uint32())
                guard count <= Limits.maxCommandsPerBatch else { throw .invalid("batch of \(count) commands") }
            }
            commands = []
            commands.reserveCapacity(count)
            for _ in 0..<count { commands.append(try CommandCodec.decode(&reader)) }
            try reader.expectEnd()
        } catch {
            throw KVError.malformedEntry(error.description)
        }
    }
}
