import CLibCrypto
import Synchronization

/// Reusable OpenSSL cipher contexts that already hold one key's schedule.
///
/// Setting up a context with a key expands the AES key schedule, which costs more than sealing a small value.
/// The pool keeps up to ``slotCount`` contexts, each initialised once with the key; a caller borrows one for
/// one operation and gives it back, so a context is never used by two threads at once.
///
/// Ownership of the slots is one atomic bit mask: borrowing sets the lowest clear bit with a compare-and-swap,
/// giving back clears it. No caller ever waits or spins on a lock, which matters when more threads than cores
/// seal at once (a lock holder that is descheduled would stall every other caller). The context of a slot is
/// made lazily by the first caller that owns the slot and is only touched by the slot's current owner; the
/// acquire and release orderings of the mask operations publish it to the next owner. When every slot is busy
/// the caller makes a temporary context and frees it afterwards.
final class CipherContextPool: @unchecked Sendable {
    /// The largest number of slots: one bit each in a 64-bit mask.
    static let maximumSlotCount = 64

    /// How many contexts the pool keeps; more concurrent callers than this pay for a key set-up each.
    let slotCount: Int

    private let key: SecretBytes
    private let makeAlgorithm: @Sendable () -> OpaquePointer?
    /// Bit `i` is set while slot `i` is borrowed.
    private let busy = Atomic<UInt64>(0)
    /// The context of each slot, `nil` until first used; read and written only by the slot's owner.
    private let contexts: UnsafeMutablePointer<OpaquePointer?>
    /// How many slots hold a context, for tests and diagnostics.
    private let madeCount = Atomic<Int>(0)

    /// Creates a pool with no contexts yet.
    ///
    /// - Parameters:
    ///   - key: the key every context is initialised with; kept for contexts made later.
    ///   - slotCount: how many contexts to keep (1 to 64).
    ///   - algorithm: returns the `EVP_CIPHER` to initialise contexts with.
    init(key: SecretBytes, slotCount: Int, algorithm: @escaping @Sendable () -> OpaquePointer?) {
        precondition((1...Self.maximumSlotCount).contains(slotCount), "a context pool has 1 to 64 slots")
        self.key = key
        self.slotCount = slotCount
        self.makeAlgorithm = algorithm
        contexts = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: slotCount)
        contexts.initialize(repeating: nil, count: slotCount)
    }

    deinit {
        precondition(busy.load(ordering: .acquiring) == 0, "a context pool must not be freed while in use")
        for slot in 0..<slotCount {
            if let context = contexts[slot] { EVP_CIPHER_CTX_free(context) }
        }
        contexts.deinitialize(count: slotCount)
        contexts.deallocate()
    }

    /// The number of slots that hold a context.
    var contextCount: Int { madeCount.load(ordering: .relaxed) }

    /// Runs `body` with a context that no other thread uses until `body` returns.
    ///
    /// The context holds the key and the encrypt direction; `body` must set the direction and nonce it needs
    /// with `EVP_CipherInit_ex(context, nil, nil, nil, nonce, direction)` and must not change the key.
    func withContext<Result>(
        _ body: (OpaquePointer) throws(AESGCMError) -> Result
    ) throws(AESGCMError) -> Result {
        guard let slot = claimSlot() else {
            let temporary = try makeContext()
            defer { EVP_CIPHER_CTX_free(temporary) }
            return try body(temporary)
        }
        defer { busy.bitwiseAnd(~(UInt64(1) << slot), ordering: .releasing) }
        if contexts[slot] == nil {
            contexts[slot] = try makeContext()
            madeCount.add(1, ordering: .relaxed)
        }
        return try body(contexts[slot]!)
    }

    /// Sets the lowest clear bit of the mask among the first `slotCount`; `nil` when all are set.
    private func claimSlot() -> Int? {
        let usable = slotCount == 64 ? UInt64.max : (UInt64(1) << slotCount) - 1
        var current = busy.load(ordering: .relaxed)
        while true {
            let free = ~current & usable
            guard free != 0 else { return nil }
            let slot = free.trailingZeroBitCount
            let (exchanged, original) = busy.compareExchange(
                expected: current, desired: current | (UInt64(1) << slot), ordering: .acquiring)
            if exchanged { return slot }
            current = original
        }
    }

    private func makeContext() throws(AESGCMError) -> OpaquePointer {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw AESGCMError.libcryptoFailure(function: "EVP_CIPHER_CTX_new")
        }
        let status = key.withUnsafeBytes { keyBytes in
            EVP_CipherInit_ex(context, makeAlgorithm(), nil, keyBytes.bytePointer, nil, 1)
        }
        guard status == 1 else {
            EVP_CIPHER_CTX_free(context)
            ERR_clear_error()
            throw AESGCMError.libcryptoFailure(function: "EVP_CipherInit_ex")
        }
        return context
    }
}
