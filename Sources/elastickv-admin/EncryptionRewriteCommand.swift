import ArgumentParser
import ControlPlane
import ElastickvAPI
import Foundation
import GRPCCore

/// `elastickv-admin encryption rewrite [--rate ROWS_PER_S] [--purpose storage] [--wait]`.
struct EncryptionRewriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite",
        abstract: "Re-seal every stored version under the active storage DEK (cleartext ones too).",
        discussion: """
            The leader re-seals the stored versions chunk by chunk through Raft, so every member converges; the \
            progress is replicated, so a leader change or a restart of every node resumes where it stopped, and a \
            rotation during the run restarts it under the new DEK. When the run finishes, every member snapshots, \
            compacts its log and truncates its store's WAL, so old cleartext and ciphertext leave the data \
            directory. With --wait, follows the run to its end: a progress bar on a terminal, a JSON line per \
            second with --json (another member is asked when the one asked stops answering).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("rate"), help: "Rows per second at most (default 2000).")
    var rate: UInt32?

    @Option(help: "What to rewrite: storage (the only purpose with stored versions).")
    var purpose = "storage"

    @Flag(help: "Wait until the run finished, showing its progress.")
    var wait = false

    func validate() throws {
        if let rate, rate == 0 { throw ValidationError("--rate must be at least 1 row per second") }
        guard purpose == "storage" else {
            throw ValidationError("--purpose \(purpose): only storage is rewritten; raft entries leave the log "
                + "through snapshots (elastickv-admin cluster snapshot)")
        }
    }

    func run() async throws {
        let session = try AdminSession(address: connection.addr, output: output)
        var request = Elastickv_V1_StartRewriteRequest()
        request.rowsPerSecond = rate ?? 0
        request.purpose = purpose
        let change = try await session.applyEncryptionChange { client, options in
            try await client.startRewrite(request, options: options)
        }
        guard wait else { return }
        try await RewriteProgress(session: session, startedIndex: change.index).follow()
    }
}

/// `elastickv-admin encryption rewrite-status`.
struct EncryptionRewriteStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite-status", abstract: "Show the rewrite as the node asked applied it.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let session = try AdminSession(address: connection.addr, output: output)
        let status = try await session.rewriteStatus()
        print(session.json ? RewriteRendering.json(status) : RewriteRendering.text(status))
    }
}

/// Follows a rewrite until the run that started at or after `startedIndex` finished.
///
/// Asks the node given with `--addr` once a second, and the other members (from its `cluster status`) in
/// turn when it stops answering, so killing the leader during the run does not end the wait; gives up with
/// exit status 69 when no member answered for ``silenceLimit``.
struct RewriteProgress {
    let session: AdminSession
    let startedIndex: UInt64
    static let interval: Duration = .seconds(1)
    static let silenceLimit: Duration = .seconds(120)

    func follow() async throws {
        var addresses = [session.address.description]
        if let members = try? await session.memberAddresses() {
            addresses += members.filter { $0 != session.address.description }
        }
        let terminal = isatty(STDOUT_FILENO) == 1 && !session.json
        var previous: (rows: UInt64, at: ContinuousClock.Instant)?
        var lastAnswer = ContinuousClock.now
        var lastLine = ContinuousClock.now - .seconds(60)
        var next = 0
        while true {
            let address = addresses[next % addresses.count]
            guard let status = try? await session.on(address).rewriteStatus(quiet: true) else {
                next += 1
                guard ContinuousClock.now - lastAnswer < Self.silenceLimit else {
                    throw AdminSession.report(AdminFailure(
                        line: "error: no member answered rewrite-status for \(Self.silenceLimit); the rewrite goes "
                            + "on in the cluster: check it with `encryption rewrite-status`",
                        exitStatus: .unavailable, code: "UNAVAILABLE"), json: session.json)
                }
                try await Task.sleep(for: Self.interval)
                continue
            }
            lastAnswer = ContinuousClock.now
            let now = ContinuousClock.now
            var measured: Double?
            if let previous, status.examinedRows >= previous.rows, now > previous.at {
                let seconds = Double((now - previous.at).components.seconds)
                    + Double((now - previous.at).components.attoseconds) / 1e18
                measured = Double(status.examinedRows - previous.rows) / seconds
            }
            previous = (status.examinedRows, now)
            let done = status.state == .finished && status.finishedIndex >= startedIndex
            if session.json {
                print(RewriteRendering.progressJSON(status, measuredRate: measured))
            } else if terminal {
                print("\r" + RewriteRendering.bar(status, measuredRate: measured), terminator: done ? "\n" : "")
                fflush(nil)  // every output stream: the bar has no line break to flush it
            } else if done || now - lastLine >= .seconds(5) {
                print(RewriteRendering.bar(status, measuredRate: measured))
                lastLine = now
            }
            if done {
                if !session.json { print(RewriteRendering.text(status)) }
                return
            }
            try await Task.sleep(for: Self.interval)
        }
    }
}
