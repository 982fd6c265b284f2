import ArgumentParser
import ControlPlane
import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

extension AdminSession {
    typealias EncryptionClient = Elastickv_V1_EncryptionAdmin.Client<HTTP2ClientTransport.Posix>

    /// Sends one encryption mutator to `--addr` and prints the summary and index (or JSON).
    ///
    /// - Throws: `ExitCode` after printing the server's message, e.g. the leader's address for a follower.
    func applyEncryption(
        _ call: (EncryptionClient, CallOptions) async throws -> Elastickv_V1_EncryptionChangeResponse
    ) async throws {
        _ = try await applyEncryptionChange(call)
    }

    /// ``applyEncryption(_:)`` that also returns the change.
    func applyEncryptionChange(
        _ call: (EncryptionClient, CallOptions) async throws -> Elastickv_V1_EncryptionChangeResponse
    ) async throws -> EncryptionChange {
        let response = try await withClient(classify: { AdminFailure(encryption: $0) }) { client, options in
            try await call(EncryptionClient(wrapping: client), options)
        }
        let change = EncryptionChange(response)
        print(json ? change.renderedJSON : change.renderedLine)
        return change
    }

    /// The rewrite as the node asked applied it.
    ///
    /// - Parameter quiet: `true` throws the failure as it is without printing it (the caller asks another node).
    /// - Throws: `ExitCode` (or, quiet, the raw error) when the node cannot answer or its answer is refused.
    func rewriteStatus(quiet: Bool = false) async throws -> RewriteStatus {
        let wire = try await withClient(classify: { AdminFailure(encryption: $0) }, reporting: !quiet) {
            client, options in
            try await EncryptionClient(wrapping: client).rewriteStatus(.init(), options: options)
        }
        do {
            return try RewriteStatus(wire)
        } catch {
            if quiet { throw error }
            throw Self.report(
                AdminFailure(line: "error: \(address): invalid answer: \(error)", exitStatus: .failure,
                             code: "INVALID_ANSWER"), json: json)
        }
    }

    /// ``memberAddresses()``, printing the failure and exiting when `--addr` does not answer.
    func memberAddressesReporting() async throws -> [String] {
        let cluster = try await withClient { client, options in
            try await ClusterClient(wrapping: client).status(.init(), options: options)
        }
        return cluster.members.map(\.addr).filter { !$0.isEmpty }
    }

    /// The gRPC addresses of the members `--addr` knows, in configuration order.
    func memberAddresses() async throws -> [String] {
        let cluster = try await withClient(reporting: false) { client, options in
            try await ClusterClient(wrapping: client).status(.init(), options: options)
        }
        return cluster.members.map(\.addr).filter { !$0.isEmpty }
    }

    /// The encryption state `--addr` has applied.
    ///
    /// - Throws: `ExitCode` when `--addr` cannot answer or answers with values the wire checks refuse.
    func encryptionState() async throws -> EncryptionStatus {
        let wireState = try await withClient(classify: { AdminFailure(encryption: $0) }) { client, options in
            try await EncryptionClient(wrapping: client).getSidecarState(.init(), options: options)
        }
        return try decodedState(wireState)
    }

    private func decodedState(_ wireState: Elastickv_V1_SidecarStateResponse) throws -> EncryptionStatus {
        do {
            return try EncryptionStatus(wireState)
        } catch {
            throw Self.report(
                AdminFailure(line: "error: \(address): invalid answer: \(error)", exitStatus: .failure,
                             code: "INVALID_ANSWER"), json: json)
        }
    }

    /// Collects `encryption status`: the applied state and the membership from `--addr`, then every member's
    /// capability.
    ///
    /// - Throws: `ExitCode` when `--addr` cannot answer or answers with values the wire checks refuse.
    func encryptionStatusReport() async throws -> EncryptionStatusReport {
        let (wireState, cluster) = try await withClient(classify: { AdminFailure(encryption: $0) }) {
            client, options in
            let state = try await EncryptionClient(wrapping: client).getSidecarState(.init(), options: options)
            let cluster = try await ClusterClient(wrapping: client).status(.init(), options: options)
            return (state, cluster)
        }
        let state = try decodedState(wireState)
        let members = cluster.members.filter { !$0.addr.isEmpty }
        return EncryptionStatusReport(
            stateAddress: address.description, state: state, nodes: await pollCapabilities(members))
    }

    /// Asks every member for its capability at once; the answers keep the members' order.
    private func pollCapabilities(_ members: [Elastickv_V1_Member]) async -> [EncryptionStatusReport.Node] {
        let timeout = timeout
        let probe = EncryptionCapabilityProbe(tls: tls)
        return await withTaskGroup(of: (Int, EncryptionStatusReport.Node.Answer).self) { group in
            for (position, member) in members.enumerated() {
                group.addTask { (position, await probe.answer(at: member.addr, timeout: timeout)) }
            }
            var answers = [EncryptionStatusReport.Node.Answer?](repeating: nil, count: members.count)
            for await (position, answer) in group { answers[position] = answer }
            return zip(members, answers).map { member, answer in
                EncryptionStatusReport.Node(
                    nodeID: member.nodeID, address: member.addr, answer: answer ?? .unreachable("no answer"))
            }
        }
    }
}
