import ControlPlane
import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Raft

extension GRPCRaftTransport {
    /// Keeps a `Deliver` stream open to the outbox's peer until the task is cancelled.
    ///
    /// Each attempt opens a fresh client and one stream and writes every queued message as a frame. When
    /// an attempt ends (the peer is down, went away, or refused the stream), the next one starts after a
    /// backoff that doubles from ``RaftTransportConfiguration/initialReconnectBackoff`` up to
    /// ``RaftTransportConfiguration/maxReconnectBackoff``, and starts again from the initial value after
    /// an attempt that delivered at least one frame. Each wait is spread by ±10 % so members that lost the
    /// same peer do not reconnect in lockstep.
    func maintainStream(to outbox: PeerOutbox) async {
        let address: PeerAddress
        do { address = try PeerAddress(parsing: outbox.address) } catch {
            preconditionFailure("setPeers admitted the unparsable address \(outbox.address)")
        }
        var backoff = configuration.initialReconnectBackoff
        var failures = 0
        while !Task.isCancelled {
            let outcome = await deliverOnce(to: outbox, address: address)
            if Task.isCancelled { return }
            if outcome.framesWritten > 0 {
                if failures > 0 { logger.debug("raft stream to peer open again", metadata: ["peer": "\(outbox.address)"]) }
                backoff = configuration.initialReconnectBackoff
                failures = 0
            }
            if let error = outcome.error {
                failures += 1
                metrics.streamFailures.increment()
                logger.debug(
                    "raft stream to peer ended",
                    metadata: ["peer": "\(outbox.address)", "attempt": "\(failures)", "error": "\(error)"])
            }
            try? await Task.sleep(for: backoff * Double.random(in: 0.9...1.1))
            backoff = min(backoff * 2, configuration.maxReconnectBackoff)
        }
    }

    private struct AttemptOutcome {
        var framesWritten: Int
        var error: (any Error)?
    }

    /// One connection and one `Deliver` stream; returns when the stream ends.
    private func deliverOnce(to outbox: PeerOutbox, address: PeerAddress) async -> AttemptOutcome {
        let written = FrameTally()
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: address.target, transportSecurity: tls.clientSecurity,
                config: tls.clientConfig(clientTransportConfiguration()))
            try await withGRPCClient(transport: transport) { client in
                let raft = Elastickv_V1_RaftTransport.Client(wrapping: client)
                _ = try await raft.deliver(options: callOptions()) { writer in
                    try await self.writeFrames(from: outbox, to: writer, tally: written)
                }
            }
            return AttemptOutcome(framesWritten: Int(written.value), error: nil)
        } catch {
            return AttemptOutcome(framesWritten: Int(written.value), error: error)
        }
    }

    /// Writes queued messages as frames until the outbox closes or the task is cancelled.
    private func writeFrames(
        from outbox: PeerOutbox, to writer: RPCWriter<Elastickv_V1_RaftFrame>, tally: FrameTally
    ) async throws {
        while let batch = await outbox.next() {
            for message in batch {
                let bytes: [UInt8]
                do { bytes = try MessageWireCodec.encode(message, limits: configuration.wireLimits) } catch {
                    metrics.droppedEncoding.increment()
                    logThrottle.warning(logger, key: "encode:\(outbox.address)", "raft message dropped: \(error)",
                                        metadata: ["peer": "\(outbox.address)"])
                    continue
                }
                var frame = Elastickv_V1_RaftFrame()
                frame.from = message.from
                frame.to = message.to
                frame.message = Data(bytes)
                try await writer.write(frame)
                tally.increment()
                metrics.sentFrames.increment()
            }
        }
    }

    private func clientTransportConfiguration() -> HTTP2ClientTransport.Posix.Config {
        .defaults { config in
            config.backoff = HTTP2ClientTransport.Config.Backoff(
                initial: configuration.initialReconnectBackoff, max: configuration.maxReconnectBackoff,
                multiplier: 2, jitter: 0.1)
            config.http2.targetWindowSize = RaftTransportConfiguration.http2WindowBytes
            config.http2.maxFrameSize = RaftTransportConfiguration.http2MaxFrameBytes
        }
    }

    /// Fails fast while the peer is unreachable (the loop above backs off), and lifts the request size
    /// limit to the one the peers' servers accept.
    private func callOptions() -> CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = false
        options.maxRequestMessageBytes = configuration.maxRequestPayloadBytes
        return options
    }
}
