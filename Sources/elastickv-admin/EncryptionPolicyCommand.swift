import ArgumentParser
import ControlPlane
import ElastickvAPI
import Encryption
import Foundation

/// `elastickv-admin encryption policy show|set`: the automatic rotation policy (DESIGN §4).
struct EncryptionPolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Show or set when the leader rotates DEKs on its own.",
        discussion: """
            A DEK is rotated when it is older than --rotate-after, when the cluster sealed --rotate-after-seals \
            values under it, or when any member's registered local epoch for it reaches 65280 (0xFF00). Until a \
            policy is set, DEKs rotate after 2^30 seals cluster-wide and never by age. Old DEKs stay for reading \
            until they are retired.
            """,
        subcommands: [Show.self, Set.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print the policy in force and the use of each active DEK.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let session = try AdminSession(address: connection.addr, output: output)
            let state = try await session.encryptionState()
            let now = UInt64(max(0, Date().timeIntervalSince1970))
            print(session.json ? RotationPolicyRendering.json(state, nowUnixSeconds: now)
                : RotationPolicyRendering.text(state, nowUnixSeconds: now))
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Replace the policy; a bound not given keeps its value.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Option(name: .customLong("rotate-after"),
                help: "Rotate a DEK this long after its creation: 90d, 12h, 30m, 45s, or off.")
        var rotateAfter: String?

        @Option(name: .customLong("rotate-after-seals"),
                help: "Rotate a DEK once the cluster sealed this many values under it (at most 2^32), or 0 for off.")
        var rotateAfterSeals: UInt64?

        @Option(name: .customLong("rewrite-after-rotate"),
                help: "on: start `encryption rewrite` after every automatic storage rotation; off: do not.")
        var rewriteAfterRotate: String?

        func validate() throws {
            guard rotateAfter != nil || rotateAfterSeals != nil || rewriteAfterRotate != nil else {
                throw ValidationError("give --rotate-after, --rotate-after-seals or --rewrite-after-rotate")
            }
            if let rewriteAfterRotate, !["on", "off"].contains(rewriteAfterRotate) {
                throw ValidationError("--rewrite-after-rotate '\(rewriteAfterRotate)' is not on or off")
            }
            if let rotateAfter, RotationPolicyRendering.seconds(ofDuration: rotateAfter) == nil {
                throw ValidationError("--rotate-after '\(rotateAfter)' is not a duration such as 90d, 12h, 30m, 45s "
                    + "or off, of at most 100 years")
            }
            if let rotateAfterSeals, rotateAfterSeals > RotationPolicy.maximumRotateAfterSeals {
                throw ValidationError("--rotate-after-seals \(rotateAfterSeals) is above 2^32 "
                    + "(\(RotationPolicy.maximumRotateAfterSeals)), the GCM guidance for one key")
            }
        }

        func run() async throws {
            var request = Elastickv_V1_SetRotationPolicyRequest()
            if let seconds = rotateAfter.flatMap(RotationPolicyRendering.seconds(ofDuration:)) {
                request.rotateAfterSeconds = seconds
            }
            if let rotateAfterSeals { request.rotateAfterSeals = rotateAfterSeals }
            if let rewriteAfterRotate { request.rewriteAfterRotate = rewriteAfterRotate == "on" }
            try await AdminSession(address: connection.addr, output: output).applyEncryption { client, options in
                try await client.setRotationPolicy(request, options: options)
            }
        }
    }
}
