import DurableIO

/// The body of a function library row (``ScriptRows/library(_:)``): the library's source and the functions
/// its load registered, so FCALL and FUNCTION LIST need not run the library to find them.
///
/// ```
/// version u8 = 1 ‖ code blob ‖ count u32 ‖ (name blob ‖ flags u8 ‖ has_description u8 ‖ description blob?) × count
/// ```
/// A blob is a u32 length then the bytes; trailing bytes are an error.
public struct FunctionLibraryRecord: Hashable, Sendable {
    public struct Function: Hashable, Sendable {
        public var name: [UInt8]
        /// ``Flags`` bits.
        public var flags: UInt8
        public var description: [UInt8]?

        public init(name: [UInt8], flags: UInt8, description: [UInt8]?) {
            self.name = name
            self.flags = flags
            self.description = description
        }
    }

    /// The flags `redis.register_function` accepts, in the order FUNCTION LIST shows them.
    public enum Flags {
        public static let names: [(name: String, bit: UInt8)] = [
            ("no-writes", 1), ("allow-oom", 2), ("allow-stale", 4), ("no-cluster", 8), ("allow-cross-slot-keys", 16),
        ]
        public static let noWrites: UInt8 = 1
    }

    public static let formatVersion: UInt8 = 1

    public var code: [UInt8]
    public var functions: [Function]

    public init(code: [UInt8], functions: [Function]) {
        self.code = code
        self.functions = functions
    }

    public func encoded() -> [UInt8] {
        var output: [UInt8] = [Self.formatVersion]
        output.appendBlob(code)
        output.appendBigEndian(UInt32(functions.count))
        for function in functions {
            output.appendBlob(function.name)
            output.append(function.flags)
            if let description = function.description {
                output.append(1)
                output.appendBlob(description)
            } else {
                output.append(0)
            }
        }
        return output
    }

    public init(decoding body: [UInt8]) throws(KVError) {
        var reader = BinaryReader(body[...])
        do throws(BinaryReader.Failure) {
            let version = try reader.uint8()
            guard version == Self.formatVersion else { throw .invalid("unknown function library format version \(version)") }
            code = try reader.blob(limit: CommandEntry.Limits.maxValueBytes)
            let count = Int(try reader.uint32())
            guard count <= CommandEntry.Limits.maxItemsPerCommand else { throw .invalid("\(count) functions") }
            functions = []
            for _ in 0..<count {
                let name = try reader.blob(limit: CommandEntry.Limits.maxKeyBytes)
                let flags = try reader.uint8()
                let hasDescription = try reader.uint8()
                guard hasDescription <= 1 else { throw .invalid("description flag \(hasDescription)") }
                let description = hasDescription == 1 ? try reader.blob(limit: CommandEntry.Limits.maxValueBytes) : nil
                functions.append(Function(name: name, flags: flags, description: description))
            }
            try reader.expectEnd()
        } catch {
            throw KVError.malformedEntry(error.description)
        }
    }
}
