import Encryption
import Storage

/// Applies the encryption entries (opcodes 0x03–0x05) on behalf of the state machine.
///
/// Implemented by the encryption layer; the state machine routes those opcodes here, inside the store
/// transaction of the batch, so registry rows and cluster flags commit together with the applied index.
public protocol EncryptionEntryApplier: AnyObject {
    /// Applies one encryption entry at `index`.
    ///
    /// - Throws: the encryption applier's ``ApplyHalt`` when the entry must neither be skipped nor applied.
    func applyEncryptionEntry(_ payload: [UInt8], index: UInt64,
                              transaction: WriteTransaction) throws(ApplyHalt)

    /// The apply hook of the raft envelope: the FSM payload of the committed entry at `index`.
    ///
    /// Entries after the cut-over are unwrapped; earlier ones are returned as they are.
    /// - Throws: ``ApplyHalt`` when an entry after the cut-over is not a raft envelope or does not open.
    func unwrapPayload(_ data: [UInt8], index: UInt64) throws(ApplyHalt) -> [UInt8]
}
