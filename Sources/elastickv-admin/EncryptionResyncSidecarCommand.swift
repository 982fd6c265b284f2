import ArgumentParser
import ControlPlane
import Encryption
import Foundation
import KV

/// `elastickv-admin encryption resync-sidecar`.
///
/// With `--data-dir` it works offline on a stopped node (the remedy for `ErrSidecarBehindRaftLog`): it
/// rebuilds the sidecar from the encryption state the node's store applied. Without it, it asks the running
/// node at `--addr` to rewrite its sidecar from the state it has applied.
struct EncryptionResyncSidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resync-sidecar",
        abstract: "Rebuild a node's key sidecar from the encryption state its store applied, keeping local epochs.",
        discussion: """
            Offline (node stopped): --data-dir DIR --node-id NAME --kek-file FILE. The node then replays the log \
            from its store's applied index, or installs a snapshot from the leader when the log was compacted.
            Online: asks the node at --addr to rewrite its sidecar.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .customLong("data-dir"), help: "The stopped node's --data-dir (offline resync).")
    var dataDirectory: String?
    @Option(name: .customLong("node-id"), help: "The stopped node's --node-id (offline resync).")
    var nodeID: String?
    @Option(name: .customLong("kek-file"), help: "The cluster's KEK file (offline resync).")
    var kekFile: String?

    func validate() throws {
        guard dataDirectory != nil else { return }
        guard nodeID != nil, kekFile != nil else {
            throw ValidationError("offline resync needs --data-dir, --node-id and --kek-file")
        }
    }

    func run() async throws {
        guard let dataDirectory, let nodeID, let kekFile else {
            try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
                try await client.resyncSidecar(.init(), options: options)
            }
            return
        }
        let sidecar: Sidecar
        do {
            let provider = try FileKEKProvider(path: kekFile)
            sidecar = try SidecarResync.run(dataDirectory: dataDirectory, nodeName: nodeID, kekProvider: provider)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let change = EncryptionChange(
            index: sidecar.raftAppliedIndex,
            summary: "the sidecar of \(nodeID) holds the store's encryption state as of index "
                + "\(sidecar.raftAppliedIndex) (\(sidecar.keys.count) keys); start the node")
        print(output.json ? change.renderedJSON : change.renderedLine)
    }
}
