import Synchronization

/// Hands out the nonces one process seals with under one DEK: fixed `node16 ‖ localEpoch`, counter from 0.
///
/// Make exactly one factory per (DEK, process, local epoch) and share it between every thread that seals under
/// that DEK: the counter is a single atomic, so concurrent callers never get the same nonce. The counter never
/// wraps: once it reaches `UInt64.max` the factory refuses, and the DEK must be rotated or the process restarted
/// with a new local epoch. The caller guarantees the prefix is registered and fresh (DESIGN §3.6).
public final class NonceFactory: Sendable {
    /// The first two bytes of every nonce.
    public let node16: UInt16
    /// Bytes 2–3 of every nonce.
    public let localEpoch: UInt16

    /// The next counter to hand out; `UInt64.max` means every usable counter was handed out.
    private let nextCounter: Atomic<UInt64>

    /// Creates a factory whose first nonce has counter 0.
    public convenience init(node16: UInt16, localEpoch: UInt16) {
        self.init(node16: node16, localEpoch: localEpoch, firstCounter: 0)
    }

    /// Creates a factory that starts at `firstCounter`; for tests of exhaustion.
    init(node16: UInt16, localEpoch: UInt16, firstCounter: UInt64) {
        self.node16 = node16
        self.localEpoch = localEpoch
        self.nextCounter = Atomic(firstCounter)
    }

    /// The next unused nonce.
    ///
    /// - Throws: ``EnvelopeError/nonceCounterExhausted(node16:localEpoch:)`` once `UInt64.max` counters were
    ///   handed out; the factory stays exhausted.
    public func next() throws(EnvelopeError) -> Nonce {
        var current = nextCounter.load(ordering: .relaxed)
        while true {
            guard current != UInt64.max else {
                throw EnvelopeError.nonceCounterExhausted(node16: node16, localEpoch: localEpoch)
            }
            let (exchanged, original) = nextCounter.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return Nonce(node16: node16, localEpoch: localEpoch, counter: current) }
            current = original
        }
    }

    /// How many nonces were handed out so far.
    public var issuedCount: UInt64 { nextCounter.load(ordering: .relaxed) }
}
