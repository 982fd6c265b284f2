import ArgumentParser
import ControlPlane
import ElastickvAPI
import Foundation
import GRPCCore

/// `elastickv-admin encryption key-usage`: per member and DEK, what still needs the key.
struct EncryptionKeyUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-usage",
        abstract: "Show, per member and DEK, the stored versions, log entries and snapshot versions under it.",
        discussion: """
            Asks every member that --addr lists; a DEK is retirable when it is not active and no member stores, \
            logs or snapshots anything under it. Stored versions go with `encryption rewrite`; log entries and \
            snapshot versions with `cluster snapshot`.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let session = try AdminSession(address: connection.addr, output: output)
        let members = try await session.memberAddressesReporting()
        let probe = EncryptionCapabilityProbe(tls: session.tls)
        var answers: [KeyUsageRendering.Answer] = []
        for address in members {
            answers.append((address, await probe.keyUsage(at: address, timeout: session.timeout)))
        }
        print(session.json ? KeyUsageRendering.json(answers) : KeyUsageRendering.table(answers))
        if answers.contains(where: { if case .failure = $0.report { true } else { false } }) {
            throw ExitCode(ExitStatus.unavailable.rawValue)
        }
    }
}

/// `elastickv-admin cluster snapshot`: every member snapshots its store and compacts its whole log.
struct ClusterSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Make every member snapshot its store and compact its whole Raft log behind the snapshot.",
        discussion: """
            Afterwards no member's log holds entries older than its snapshot, so a retired raft DEK is needed \
            nowhere, and the old snapshot files and log segments are deleted. Members are asked one by one; \
            the exit status is 69 when one did not answer.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let session = try AdminSession(address: connection.addr, output: output)
        var failed = false
        var results: [[String: Any]] = []
        for address in try await session.memberAddressesReporting() {
            do {
                let response = try await session.on(address).withClient(reporting: false) { client, options in
                    try await AdminSession.ClusterClient(wrapping: client).snapshot(.init(), options: options)
                }
                if response.error.isEmpty {
                    results.append(["address": address, "snapshot_index": response.index])
                    if !session.json { print("\(address): snapshot at index \(response.index), log compacted") }
                } else {
                    failed = true
                    results.append(["address": address, "error": response.error])
                    if !session.json { print("\(address): refused: \(response.error)") }
                }
            } catch {
                failed = true
                let reason = (error as? RPCError).map { "\(AdminFailure.statusName($0.code)): \($0.message)" }
                    ?? "\(error)"
                results.append(["address": address, "error": reason])
                if !session.json { print("\(address): did not answer: \(reason)") }
            }
        }
        if session.json, let data = try? JSONSerialization.data(withJSONObject: ["nodes": results], options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(ExitStatus.unavailable.rawValue) }
    }
}
