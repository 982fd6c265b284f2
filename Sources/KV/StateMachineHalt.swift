import Encryption
import Storage

/// Apply stopped at an entry it must neither skip nor apply; the applied index stays just before it.
///
/// The node stops applying (and serving writes) until an operator acts; the description says what happened.
public struct StateMachineHalt: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why apply stopped.
    public enum Cause: Hashable, Sendable {
        /// The payload of a command entry does not decode.
        case malformedEntry(KVError)
        /// Opcode 0x02 or an unknown opcode.
        case unsupportedOpcode(UInt8)
        /// An encryption entry arrived on a node without encryption enabled.
        case encryptionNotConfigured
        /// A transaction entry (0x06) arrived on a state machine without a ``TransactionApplier``.
        case transactionsNotConfigured
        /// The encryption applier halted (its reason names the normative error).
        case encryption(ApplyHalt)
        /// The store failed while applying (I/O, integrity failure of a value the command reads).
        case storage(StorageError)
        /// The entry does not follow the applied index.
        case gap(appliedIndex: UInt64)
        /// Commit timestamps would pass 2^63.
        case timestampSpaceExhausted
    }

    /// The index of the entry that could not be applied.
    public var index: UInt64
    public var cause: Cause

    public init(index: UInt64, cause: Cause) {
        self.index = index
        self.cause = cause
    }

    /// Whether a restart, which re-delivers the entry, may succeed (I/O failures only).
    public var isRetryable: Bool {
        switch cause {
        case .storage: return true
        case .encryption(let halt): return halt.isRetryable
        default: return false
        }
    }

    public var description: String {
        let reason: String
        switch cause {
        case .malformedEntry(let error): reason = error.description
        case .unsupportedOpcode(let opcode): reason = KVError.unsupportedOpcode(opcode).description
        case .encryptionNotConfigured: reason = KVError.encryptionNotConfigured.description
        case .transactionsNotConfigured: reason = "a transaction entry, but this state machine has no transaction applier"
        case .encryption(let halt): return halt.description
        case .storage(let error): reason = "storage: \(error)"
        case .gap(let applied): reason = "entry does not follow the applied index \(applied)"
        case .timestampSpaceExhausted: reason = "commit timestamp space exhausted"
        }
        return "apply halted at index \(index): \(reason)"
    }
}
