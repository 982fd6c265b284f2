import ArgumentParser
import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Server

extension AdminSession {
    typealias EncryptionClient = Elastickv_V1_EncryptionAdmin.Client<HTTP2ClientTransport.Posix>

    /// An answer that failed the wire checks; printed as the failure line.
    struct InvalidAnswer: Error, CustomStringConvertible {
        var reason: EncryptionWireError
        var description: String { "invalid answer: \(reason)" }
    }

    /// Sends one encryption mutator to `--addr` and prints the summary and index (or JSON).
    ///
    /// - Throws: `ExitCode` after printing the server's message, e.g. the leader's address for a follower.
    func applyEncryption(
        _ call: (EncryptionClient, CallOptions) async throws -> Elastickv_V1_EncryptionChangeResponse
    ) async throws {
        let response = try await withClient(classify: { AdminFailure(encryption: $0) }) { client, options in
            try await call(EncryptionClient(wrapping: client), options)
        }
        let change = EncryptionChange(response)
        print(json ? change.renderedJSON : change.renderedLine)
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
        let state: EncryptionStatus
        do {
            state = try EncryptionStatus(wireState)
        } catch {
            throw Self.report(
                AdminFailure(line: "error: \(address): \(InvalidAnswer(reason: error))", exitStatus: .failed))
        }
        let members = cluster.members.filter { !$0.addr.isEmpty }
        return EncryptionStatusReport(
            stateAddress: address.description, state: state, nodes: await pollCapabilities(members))
    }

    /// Asks every member for its capability at once; the answers keep the members' order.
    private func pollCapabilities(_ members: [Elastickv_V1_Member]) async -> [EncryptionStatusReport.Node] {
        let timeout = timeout
        return await withTaskGroup(of: (Int, EncryptionStatusReport.Node.Answer).self) { group in
            for (position, member) in members.enumerated() {
                group.addTask { (position, await Self.pollCapability(at: member.addr, timeout: timeout)) }
            }
            var answers = [EncryptionStatusReport.Node.Answer?](repeating: nil, count: members.count)
            for await (position, answer) in group { answers[position] = answer }
            return zip(members, answers).map { member, answer in
                EncryptionStatusReport.Node(
                    nodeID: member.nodeID, address: member.addr, answer: answer ?? .unreachable("no answer"))
            }
        }
    }

    /// One capability poll; every failure becomes `.unreachable` with its reason, never an exit.
    private static func pollCapability(
        at text: String, timeout: Duration
    ) async -> EncryptionStatusReport.Node.Answer {
        do {
            let address = try AdminAddress(parsing: text)
            let transport = try HTTP2ClientTransport.Posix(
                target: .dns(host: address.host, port: address.port), transportSecurity: .plaintext)
            let wire = try await withGRPCClient(transport: transport) { client in
                var options = CallOptions.defaults
                options.timeout = timeout
                options.waitForReady = false
                return try await EncryptionClient(wrapping: client).getCapability(.init(), options: options)
            }
            do {
                return .capability(try EncryptionCapability(wire))
            } catch {
                return .unreachable(InvalidAnswer(reason: error).description)
            }
        } catch let error as RPCError {
            return .unreachable("\(AdminFailure.statusName(error.code)): \(error.message)")
        } catch {
            return .unreachable(String(describing: error))
        }
    }
}
