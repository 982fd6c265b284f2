import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Raft

/// Sends a follower's writes and read-index requests to the leader's Raft transport service.
///
/// Each call opens a connection to the given address, makes one RPC bounded by ``requestTimeout`` and
/// closes it: forwarding happens only while this member is not the leader, the leader's address changes
/// with every election, and a short-lived connection needs no lifecycle of its own.
public struct RaftForwardingClient: Sendable {
    /// The longest a forwarded request may wait for the leader's answer.
    public var requestTimeout: Duration

    public init(requestTimeout: Duration = .seconds(10)) {
        precondition(requestTimeout > .zero, "requestTimeout must be positive.")
        self.requestTimeout = requestTimeout
    }

    /// Asks the leader at `address` to propose `payload` and waits for it to be applied there.
    ///
    /// - Returns: the leader's answer, possibly a refusal naming another leader.
    /// - Throws: ``RaftForwardingError`` when no answer arrived.
    public func forward(payload: [UInt8], to address: String) async throws(RaftForwardingError) -> ForwardResult {
        var request = Elastickv_V1_ForwardRequest()
        request.payload = Data(payload)
        let response = try await call(address) { client, options in
            try await client.forward(request, options: options)
        }
        guard response.error.isEmpty else {
            return .refused(refusal(response.error, response.leaderID, response.leaderAddr))
        }
        return .applied(index: response.index, term: response.term, result: [UInt8](response.result))
    }

    /// Asks the leader at `address` for a linearizable read index.
    ///
    /// - Throws: ``RaftForwardingError`` when no answer arrived.
    public func readIndex(from address: String) async throws(RaftForwardingError) -> ReadIndexResult {
        let response = try await call(address) { client, options in
            try await client.readIndex(Elastickv_V1_ReadIndexRequest(), options: options)
        }
        guard response.error.isEmpty else {
            return .refused(refusal(response.error, response.leaderID, response.leaderAddr))
        }
        return .index(response.index)
    }

    private func refusal(_ reason: String, _ leaderID: UInt64, _ leaderAddress: String) -> RaftForwardingRefusal {
        RaftForwardingRefusal(
            reason: reason, leaderID: leaderID == 0 ? nil : leaderID,
            leaderAddress: leaderAddress.isEmpty ? nil : leaderAddress)
    }

    private func call<Response: Sendable>(
        _ address: String,
        _ body: (Elastickv_V1_RaftTransport.Client<HTTP2ClientTransport.Posix>, CallOptions) async throws -> Response
    ) async throws(RaftForwardingError) -> Response {
        let peer: PeerAddress
        do { peer = try PeerAddress(parsing: address) } catch { throw .invalidAddress(address) }
        var options = CallOptions.defaults
        options.timeout = requestTimeout
        options.waitForReady = false
        options.maxRequestMessageBytes = RaftTransportConfiguration.maxRequestPayloadBytes
        do {
            let transport = try HTTP2ClientTransport.Posix(target: peer.target, transportSecurity: .plaintext)
            return try await withGRPCClient(transport: transport) { client in
                try await body(Elastickv_V1_RaftTransport.Client(wrapping: client), options)
            }
        } catch let error as RPCError {
            switch error.code {
            case .unavailable: throw .unavailable(address: address, reason: error.message)
            case .deadlineExceeded: throw .timedOut(address: address)
            default: throw .failed(address: address, reason: "\(error.code): \(error.message)")
            }
        } catch {
            throw .failed(address: address, reason: "\(error)")
        }
    }
}
