import CLibCrypto
import Synchronization

/// Reusable OpenSSL cipher contexts that already hold one key's schedule.
///
/// Setting up a context with a key expands the AES key schedule, which costs more than sealing a small value.
/// The pool keeps contexts that were initialised once with the key; a caller borrows one for the duration of
/// one operation and gives it back, so a context is never used by two threads at once. When every pooled
/// context is busy a new one is made; at most ``maximumIdleContexts`` are kept once the burst is over.
final class CipherContextPool: @unchecked Sendable {
    /// A context pointer that moves between threads only through the pool's lock.
    private struct Handle: @unchecked Sendable {
        let context: OpaquePointer
    }

    /// How many idle contexts the pool keeps; more concurrent callers than this pay for a key set-up.
    let maximumIdleContexts: Int

    private let key: SecretBytes
    private let makeAlgorithm: @Sendable () -> OpaquePointer?
    private let idle = Mutex<[Handle]>([])

    /// Creates an empty pool.
    ///
    /// - Parameters:
    ///   - key: the key every context is initialised with; kept for contexts made later.
    ///   - maximumIdleContexts: the bound on kept idle contexts (at least 1).
    ///   - algorithm: returns the `EVP_CIPHER` to initialise contexts with.
    init(key: SecretBytes, maximumIdleContexts: Int, algorithm: @escaping @Sendable () -> OpaquePointer?) {
        precondition(maximumIdleContexts >= 1, "a context pool must be able to keep at least one context")
        self.key = key
        self.maximumIdleContexts = maximumIdleContexts
        self.makeAlgorithm = algorithm
    }

    deinit {
        idle.withLock { handles in
            for handle in handles { EVP_CIPHER_CTX_free(handle.context) }
            handles.removeAll()
        }
    }

    /// The number of contexts waiting for a caller.
    var idleCount: Int { idle.withLock { $0.count } }

    /// Runs `body` with a context that no other thread uses until `body` returns.
    ///
    /// The context holds the key and the encrypt direction; `body` must set the direction and nonce it needs
    /// with `EVP_CipherInit_ex(context, nil, nil, nil, nonce, direction)` and must not change the key.
    func withContext<Result>(
        _ body: (OpaquePointer) throws(AESGCMError) -> Result
    ) throws(AESGCMError) -> Result {
        let handle = try borrow()
        defer { giveBack(handle) }
        return try body(handle.context)
    }

    private func borrow() throws(AESGCMError) -> Handle {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        return try makeContext()
    }

    private func giveBack(_ handle: Handle) {
        let kept = idle.withLock { handles in
            guard handles.count < maximumIdleContexts else { return false }
            handles.append(handle)
            return true
        }
        if !kept { EVP_CIPHER_CTX_free(handle.context) }
    }

    private func makeContext() throws(AESGCMError) -> Handle {
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
        return Handle(context: context)
    }
}
