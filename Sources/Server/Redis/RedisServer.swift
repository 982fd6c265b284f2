import KV
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RESP
import RedisCommands
import ServiceLifecycle
import Synchronization

/// The Redis protocol listener: RESP2 (and RESP3 after `HELLO 3`), pipelining, optional password.
///
/// Each connection handles its requests one at a time, in order, so pipelined replies come back in request
/// order. Writes go through the backend (Raft); reads through its linearizable read path.
public final class RedisServer: Service, Sendable {
    /// Listener settings; every limit is named.
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks an ephemeral port (reported through `onBound`).
        public var port: Int
        /// When set, clients must AUTH before anything else.
        public var password: [UInt8]?
        /// The largest value a write may carry.
        public var maxValueBytes: Int
        /// Called once with the bound address.
        public var onBound: @Sendable (SocketAddress) -> Void
        /// How long a shutdown waits for requests being executed to be answered (``RedisServer/drain(within:)``).
        public var drainTimeout: Duration = .seconds(5)
        /// RESP over TLS on a second port (`--redis-tls-addr`); nil: none.
        public var tls: TLSContextSource?
        /// Whether the plaintext port is served (`--redis-tls-only` turns it off).
        public var plaintext = true
        /// Called once with the TLS listener's address.
        public var onTLSBound: @Sendable (SocketAddress) -> Void = { _ in }
        /// How often the TLS files are checked for a change (a renewed certificate).
        public var tlsReloadInterval: Duration = .seconds(2)

        public init(host: String, port: Int, password: [UInt8]? = nil, maxValueBytes: Int = 64 << 20,
                    onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
            self.host = host
            self.port = port
            self.password = password
            self.maxValueBytes = maxValueBytes
            self.onBound = onBound
        }
    }

    let configuration: Configuration
    let backend: any RedisBackend
    let metrics: RedisMetrics
    let logger: Logger
    let group: any EventLoopGroup
    private let nextClientID = Atomic<Int64>(1)
    private let noDelayFailureLogged = Atomic<Bool>(false)
    let connections = RedisConnections()
    /// The order in which this listener's blocked commands try again.
    let blockedTurns = BlockedTurns()
    private let blocked = Atomic<Int>(0)

    /// INFO stats, commandstats and errorstats.
    let statistics = ServerStatistics()
    /// MONITOR connections, CLIENT PAUSE, SLOWLOG and LATENCY: this listener's own, as each Redis server's.
    let monitors = Monitors()
    let pause = ClientPause()
    let slowLog = SlowLog()
    let latencyMonitor = LatencyMonitor()
    let facts = ProcessFacts()
    /// The ACL users as this node applied them, and this node's ACL LOG.
    let aclDirectory: ACLDirectory
    let aclLog = ACLLog()
    /// The Redis port once bound (INFO server's tcp_port).
    let boundPort = Atomic<Int>(0)

    /// How many clients wait in a blocking command (BLPOP …) right now.
    public var blockedClients: Int { blocked.load(ordering: .relaxed) }

    /// The whole `INFO` text (every section), for an INFO queued in MULTI (the connection picks the sections).
    func serverInfo() -> String {
        info([Array("everything".utf8)])
    }

    /// This member's pub/sub subscribers (shared with the Raft transport service, which delivers other
    /// members' messages to them).
    let pubSubHub: PubSubHub
    /// The other members, for PUBLISH and PUBSUB; nil: this member alone.
    let pubSubPeers: (any PubSubPeers)?

    public init(configuration: Configuration, backend: any RedisBackend, metrics: MetricsRegistry, logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, pubSubHub: PubSubHub = PubSubHub(),
                pubSubPeers: (any PubSubPeers)? = nil) {
        self.pubSubHub = pubSubHub
        self.pubSubPeers = pubSubPeers
        self.configuration = configuration
        self.backend = backend
        aclDirectory = ACLDirectory(backend: backend, defaults: ACLDefaults(password: configuration.password))
        self.metrics = RedisMetrics(registry: metrics)
        self.logger = logger
        self.group = group
    }

    public func run() async throws {
        var parserLimits = RESPRequestParser.Limits()
        parserLimits.maxBulkBytes = configuration.maxValueBytes + 1024
        let requestParser = RESPRequestParser(limits: parserLimits)
        typealias Listener = NIOAsyncChannel<NIOAsyncChannel<[[UInt8]], ByteBuffer>, Never>
        var listeners: [Listener] = []
        do {
            if configuration.plaintext {
                listeners.append(try await bind(host: configuration.host, port: configuration.port, flag: "--redis-addr",
                                                tls: nil, parser: requestParser))
            }
            if let tls = configuration.tls {
                listeners.append(try await bind(host: tls.settings.host, port: tls.settings.port, flag: "--redis-tls-addr",
                                                tls: tls, parser: requestParser))
            }
        } catch {
            for listener in listeners { try? await listener.channel.close() }
            throw error
        }
        guard listeners.allSatisfy({ connections.attach(listener: $0.channel) }) else {
            // Drained before it started: close without accepting, then wait for the service's own shutdown.
            for listener in listeners { try? await listener.executeThenClose { _ in } }
            try? await gracefulShutdown()
            return
        }
        for (index, listener) in listeners.enumerated() {
            guard let address = listener.channel.localAddress else { continue }
            if index == 0 && configuration.plaintext {
                boundPort.store(address.port ?? 0, ordering: .relaxed)
                configuration.onBound(address)
            } else {
                configuration.onTLSBound(address)
            }
            logger.info("redis listener started", metadata: [
                "address": "\(address)", "tls": "\(index > 0 || !configuration.plaintext)",
            ])
        }
        let watcher = configuration.tls.map { tls in Task { await self.watchTLSFiles(tls) } }
        let aclEnforcer = Task { await self.enforceACLChanges() }
        defer {
            watcher?.cancel()
            aclEnforcer.cancel()
        }
        let accepting = listeners
        try await runUntilGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { all in
                for listener in accepting {
                    all.addTask {
                        try await listener.executeThenClose { connections in
                            try await withThrowingDiscardingTaskGroup { group in
                                for try await connection in connections {
                                    group.addTask { await self.serve(connection) }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The listener also ends when a drain closed it; the service still runs until its own shutdown.
        try? await gracefulShutdown()
    }

    private func bind(host: String, port: Int, flag: String, tls: TLSContextSource?, parser: RESPRequestParser)
        async throws -> NIOAsyncChannel<NIOAsyncChannel<[[UInt8]], ByteBuffer>, Never>
    {
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.prepareConnection(channel, parser: parser, tls: tls)
                    }
                }
        } catch {
            throw ListenerBindError(flag: flag, address: "\(host):\(port)", underlying: error)
        }
    }

    /// Re-reads the TLS files when they change (checked every ``Configuration/tlsReloadInterval``; SIGHUP is
    /// the node's, ``CertificateReloadOnSignal``); a failed reload keeps the current certificate and is logged.
    /// Ends with the listener.
    func watchTLSFiles(_ tls: TLSContextSource) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.tlsReloadInterval)
            if !Task.isCancelled { tls.reload(force: false, logger: logger) }
        }
    }

    /// Sets up an accepted connection: Nagle's algorithm off, then the RESP decoder.
    ///
    /// Replies are small and written once per request, so Nagle's algorithm would hold a pipelined client's
    /// replies back for a round trip. The option is set at the TCP level on each connection; when the
    /// kernel refuses it the connection is still served and the failure is logged once per listener.
    func prepareConnection(_ channel: any Channel, parser: RESPRequestParser, tls: TLSContextSource? = nil) throws
        -> NIOAsyncChannel<[[UInt8]], ByteBuffer>
    {
        disableNagle(on: channel)
        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context)) }
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPRequestDecoder(parser: parser)))
        return try NIOAsyncChannel<[[UInt8]], ByteBuffer>.closingOnDeinit(channel)
    }

    func disableNagle(on channel: any Channel) {
        do {
            guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
            try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
        } catch {
            guard !noDelayFailureLogged.exchange(true, ordering: .relaxed) else { return }
            logger.warning(
                "TCP_NODELAY could not be set on a Redis connection; connections are served with Nagle's algorithm on",
                metadata: ["error": "\(error)"])
        }
    }

    /// Stops accepting connections, closes idle ones, lets each busy one finish the request it is executing
    /// and write its reply (then closes it), and after `timeout` closes whatever is still open. Requests not
    /// yet started when the drain begins are not executed. Runs at shutdown before leadership is handed off,
    /// while the node still commits.
    ///
    /// - Returns: how many connections were still executing a request when the time was up (0: all drained).
    @discardableResult
    public func drain(within timeout: Duration) async -> Int {
        let toClose = connections.startDrain()
        backend.applied.close()  // blocked commands (BLPOP …) stop waiting
        for channel in toClose { channel.close(promise: nil) }
        let deadline = ContinuousClock.now + timeout
        while connections.busyCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let unfinished = connections.busyCount
        if unfinished > 0 {
            logger.warning("redis requests still executing when the shutdown drain ended; their connections close",
                           metadata: ["requests": "\(unfinished)", "drain_timeout": "\(timeout)"])
        }
        for channel in connections.remaining { channel.close(promise: nil) }
        return unfinished
    }

    private func serve(_ connection: NIOAsyncChannel<[[UInt8]], ByteBuffer>) async {
        let clientID = nextClientID.add(1, ordering: .relaxed).newValue - 1
        let parser = RedisCommandParser(maxValueBytes: configuration.maxValueBytes)
        guard connections.open(clientID, connection.channel) else {
            try? await connection.executeThenClose { _, _ in }
            return
        }
        let channel = connection.channel
        let logger = logger
        // Once the connection subscribes, its replies and its messages go out through the mailbox, in order,
        // written by one task; a subscriber too slow to read is closed (Redis's client-output-buffer limit).
        let mailbox = PubSubMailbox {
            logger.warning("closing a pub/sub client that does not read its messages (output limit reached)",
                           metadata: ["client": "\(clientID)"])
            channel.close(promise: nil)
        }
        statistics.connectionReceived()
        defer {
            pubSubHub.remove(clientID)
            monitors.remove(clientID)
            mailbox.close()
            connections.closed(clientID)
        }
        try? await connection.executeThenClose { inbound, outbound in
            var session = ConnectionSession(clientID: clientID, password: configuration.password,
                                            config: ServerConfig(maxValueBytes: configuration.maxValueBytes))
            session.users = { [aclDirectory] name in aclDirectory.user(name) }
            session.startAsDefault()
            var writer: Task<Void, Never>?
            defer { writer?.cancel() }
            do {
                for try await arguments in inbound {
                    guard connections.begin(clientID) else { return }
                    let (reply, close) = await respond(to: arguments, parser: parser, session: &session,
                                                       closed: channel.closeFuture, mailbox: mailbox)
                    let bytes = session.sendsReply() ? reply.encoded(session.protocolVersion) : []
                    statistics.transferred(input: ServerStatistics.requestBytes(arguments), output: bytes.count)
                    if writer != nil {
                        if !bytes.isEmpty { mailbox.post(bytes) }
                    } else {
                        if !bytes.isEmpty { try await outbound.write(ByteBuffer(bytes: bytes)) }
                        if session.subscriptions.count > 0 || session.isMonitoring {
                            writer = Task {
                                while let next = await mailbox.next() {
                                    do { try await outbound.write(ByteBuffer(bytes: next)) } catch { return }
                                }
                            }
                        }
                    }
                    if connections.end(clientID) || close { return }
                }
            } catch let error as RESPProtocolError {
                let reply = RESPValue.error("ERR \(error)")
                if writer != nil { mailbox.post(reply.encoded(session.protocolVersion)) } else {
                    try? await outbound.write(ByteBuffer(bytes: reply.encoded(session.protocolVersion)))
                }
            }
        }
    }

    /// Answers one request; `close` asks to close the connection afterwards.
    ///
    /// - Parameter closed: completes when the client's connection closes; a blocked command stops waiting then.
    func respond(to arguments: [[UInt8]], parser: RedisCommandParser, session: inout ConnectionSession,
                 closed: EventLoopFuture<Void>, mailbox: PubSubMailbox? = nil) async -> (reply: RESPValue, close: Bool)
    {
        let started = ContinuousClock.now
        let label = Self.commandLabel(arguments)
        connections.record(session.clientID) { client in
            client.lastActive = started
            client.lastCommand = label
        }
        let request = parser.parse(arguments, nowMillis: backend.nowMillis())
        var close = false
        let reply: RESPValue
        var outcome = ServerStatistics.Outcome.executed
        if case .reply(.error(let message)) = request, ConnectionSession.isLookupOrArityError(message) {
            outcome = message.hasPrefix("ERR unknown command") ? .unknownCommand : .rejected
        }
        if let refusal = session.admit(request, command: arguments.first, subcommand: arguments.dropFirst().first) {
            reply = refusal
            if outcome == .executed { outcome = .rejected }
        } else if let refusal = aclRefusal(request, arguments: arguments, label: label, session: session) {
            reply = refusal
            outcome = .rejected
            if session.transaction.isOpen { session.transaction.refused = true }
        } else if let queued = session.transaction.queue(request, arguments: arguments) {
            reply = queued
            if outcome == .executed {
                // A queued command is counted when EXEC runs it, as part of the EXEC.
                if case .error = queued { outcome = .rejected } else { outcome = .queued }
            }
        } else {
            await waitWhilePaused(request, closed: closed)
            if !monitors.isEmpty { feedMonitors(arguments, session: session) }
            switch request {
            case .server(let command):
                reply = await server(command, session: &session, mailbox: mailbox, closed: closed)
            case .acl(let command):
                reply = await acl(command, arguments: arguments, session: session)
            case .connection(.info(let sections)):
                reply = .bulkString(Array(info(sections).utf8))
            case .connection(.config(let config)) where config != .resetStatistics && config != .rewrite:
                reply = configure(config, session: session)
            case .connection(.config(.resetStatistics)):
                statistics.reset()
                latencyMonitor.reset()
                reply = .ok
            case .transaction(let command):
                reply = await transaction(command, session: &session)
            case .reply(let value):
                reply = value
            case .connection(.clientList(nil)):
                reply = .bulk("")
            case .connection(.clientList(let ids?)):
                reply = .bulk(clientLines(ids.isEmpty ? nil : Set(ids), session: session, command: "client|list"))
            case .connection(.clientInfo):
                reply = .bulk(clientLines([session.clientID], session: session, command: "client|info"))
            case .connection(.clientKill(let ids, let addresses, let oldForm)):
                // The new form spares the calling client (SKIPME yes); the old form closes it after the reply.
                let killed = connections.kill(ids: ids, addresses: addresses, sparing: oldForm ? nil : session.clientID)
                reply = oldForm ? (killed > 0 ? .ok : .error("ERR No such client")) : .integer(Int64(killed))
            case .connection(let command):
                (reply, close) = session.respond(to: command, info: serverInfo)
                if case .error(let message) = reply, message.hasPrefix("WRONGPASS") {
                    var user: [UInt8]?
                    if case .auth(let credentials) = command { user = credentials.user }
                    if case .hello(_, let credentials?, _) = command { user = credentials.user }
                    if let user {
                        aclLog.record(reason: "auth", object: Array("AUTH".utf8), user: user,
                                      clientInfo: clientLines([session.clientID], session: session, command: "auth"))
                    }
                }
            case .write(let command, let shape):
                let database = session.database
                do throws(BackendError) {
                    reply = shape.render(try await backend.execute(database == 0 ? command : .database(database, command)))
                } catch {
                    reply = .error(error.redisMessage)
                }
            case .read(let command):
                let database = session.database
                do throws(BackendError) {
                    reply = try await backend.read(database == 0 ? command : .inDatabase(database, command))
                } catch {
                    reply = .error(error.redisMessage)
                }
            case .pubSub(let command):
                switch command {
                case .subscribe, .unsubscribe:
                    guard let mailbox else {
                        reply = .error("ERR this connection cannot subscribe")
                        break
                    }
                    reply = session.subscriptions.apply(command).reply
                    pubSubHub.update(session.clientID, session.subscriptions, mailbox: mailbox,
                                     version: session.protocolVersion)
                default:
                    reply = await pubSub(command)
                }
            case .blockingRead(let read):
                let database = session.database
                reply = await waitBlocked(session.clientID, closed: closed) { await self.blockRead(read, database: database) }
            case .blocking(let command):
                let database = session.database
                reply = await waitBlocked(session.clientID, closed: closed) { await self.block(command, database: database) }
            case .script(let command):
                reply = await script(command, arguments: arguments, database: session.database)
            }
        }
        let duration = ContinuousClock.now - started
        metrics.record(command: arguments.first, reply: reply, duration: duration)
        recordStatistics(arguments, label: label, reply: reply, outcome: outcome, duration: duration, session: session)
        connections.record(session.clientID) { client in
            client.lastActive = ContinuousClock.now
            client.name = session.clientName
            client.user = String(decoding: session.userName, as: UTF8.self)
            client.database = session.database
            client.protocolVersion = session.protocolVersion == .resp3 ? 3 : 2
            client.queued = session.transaction.queued?.count
        }
        return (reply, close)
    }

    /// CLIENT LIST / CLIENT INFO lines, as Redis 7 prints them (fields this node does not track are 0).
    func clientLines(_ ids: Set<Int64>?, session: ConnectionSession, command own: String) -> String {
        let now = ContinuousClock.now
        return connections.clients.filter { ids?.contains($0.id) ?? true }.map { id, client in
            let age = (now - client.opened).components.seconds, idle = (now - client.lastActive).components.seconds
            let flags = client.blocked ? "b" : client.queued != nil ? "x" : "N"
            let name = client.name.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let command = id == session.clientID ? own : client.lastCommand
            return "id=\(id) addr=\(client.address) laddr=\(client.localAddress) fd=-1 name=\(name) age=\(age) "
                + "idle=\(id == session.clientID ? 0 : idle) flags=\(flags) db=\(client.database) sub=0 psub=0 ssub=0 "
                + "multi=\(client.queued ?? -1) qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 "
                + "omem=0 tot-mem=0 events=r cmd=\(command) user=\(client.user) redir=-1 resp=\(client.protocolVersion)\n"
        }.joined()
    }

    /// The command name CLIENT LIST shows (`client|info` style for commands with subcommands).
    static func commandLabel(_ arguments: [[UInt8]]) -> String {
        guard let first = arguments.first else { return "NULL" }
        let name = String(decoding: first.prefix(32), as: UTF8.self).lowercased()
        guard RedisCommandParser.commandNameSet.contains(name) else { return "NULL" }
        // A subcommand is shown only when it is a plain word: these labels end up in INFO's lines.
        if RedisCommandParser.containerCommands.contains(name), arguments.count > 1,
           arguments[1].count <= 32, arguments[1].allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
               || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) {
            return name + "|" + String(decoding: arguments[1], as: UTF8.self).lowercased()
        }
        return name
    }

    /// BLPOP and friends: proposes the command's write; while it finds every key empty, waits until this node
    /// applies something, and then, in its turn (``BlockedTurns``: the client that blocked first goes
    /// first), proposes it again over the keys that now hold a list, until the timeout. Shutdown, or the
    /// client going away, ends the wait with nothing popped.
    func block(_ command: BlockingCommand, database: UInt8) async -> RESPValue {
        func inDatabase(_ attempt: Command) -> Command { database == 0 ? attempt : .database(database, attempt) }
        let deadline = command.timeoutMillis == 0 ? nil : ContinuousClock.now + .milliseconds(command.timeoutMillis)
        var seen = backend.applied.generation
        do throws(BackendError) {
            if let reply = command.render(try await backend.execute(inDatabase(command.attempt))) { return reply }
        } catch {
            return .error(error.redisMessage)
        }
        let ticket = blockedTurns.block(seen: seen)
        blocked.add(1, ordering: .relaxed)
        defer {
            blocked.subtract(1, ordering: .relaxed)
            blockedTurns.unblock(ticket)
        }
        while true {
            switch await backend.applied.wait(after: seen, until: deadline) {
            case .applied:
                // Applies may come without pause; the timeout still ends the wait.
                if let deadline, ContinuousClock.now >= deadline { return BlockingCommand.timedOut }
            case .deadline: return BlockingCommand.timedOut
            case .closed:
                return .error(Task.isCancelled ? "TRYAGAIN the connection closed; nothing was popped"
                                               : "TRYAGAIN the server is shutting down; nothing was popped")
            }
            seen = backend.applied.generation
            await blockedTurns.turn(ticket, generation: seen)
            defer { blockedTurns.finish(ticket, generation: seen) }
            // A client that went away while it waited for its turn pops nothing.
            if Task.isCancelled { return .error("TRYAGAIN the connection closed; nothing was popped") }
            let ready = backend.keys(command.keys, holding: command.awaitedType, database: database)
            guard !ready.isEmpty else { continue }
            do throws(BackendError) {
                if let reply = command.render(try await backend.execute(inDatabase(command.retry(over: ready)))) {
                    return reply
                }
            } catch {
                return .error(error.redisMessage)
            }
        }
    }

    /// Runs a blocking command's wait as a task that the client's disconnect cancels, with the client flagged
    /// blocked (`b` in CLIENT LIST) meanwhile.
    private func waitBlocked(_ clientID: Int64, closed: EventLoopFuture<Void>,
                             _ wait: @escaping @Sendable () async -> RESPValue) async -> RESPValue {
        let blocked = Task { await wait() }
        closed.whenComplete { _ in blocked.cancel() }
        connections.record(clientID) { $0.blocked = true }
        defer { connections.record(clientID) { $0.blocked = false } }
        return await blocked.value
    }

    /// XREAD … BLOCK: `$` ids resolved once, then a read whenever this node applies something, until an
    /// entry arrives or the timeout passes (a null array). Reads never propose anything.
    func blockRead(_ read: BlockingStreamRead, database: UInt8) async -> RESPValue {
        func inDatabase(_ command: ReadCommand) -> ReadCommand { database == 0 ? command : .inDatabase(database, command) }
        let deadline = read.timeoutMillis == 0 ? nil : ContinuousClock.now + .milliseconds(read.timeoutMillis)
        var seen = backend.applied.generation
        do throws(BackendError) {
            let resolved = try await backend.read(inDatabase(.streamResolve(keys: read.keys, after: read.after)))
            guard case .array(let items) = resolved else { return resolved }
            let after = items.map { item -> StreamReadID in
                guard case .bulkString(let text) = item, let id = StreamID(String(decoding: text, as: UTF8.self)) else {
                    return .invalid("ERR Invalid stream ID specified as stream command argument")
                }
                return .id(id)
            }
            let command = inDatabase(.streamRead(keys: read.keys, after: after, count: read.count))
            var counted = false
            defer { if counted { blocked.subtract(1, ordering: .relaxed) } }
            while true {
                let reply = try await backend.read(command)
                if reply != .nullArray { return reply }
                if !counted {
                    blocked.add(1, ordering: .relaxed)
                    counted = true
                }
                switch await backend.applied.wait(after: seen, until: deadline) {
                case .applied:
                    if let deadline, ContinuousClock.now >= deadline { return .nullArray }
                    seen = backend.applied.generation
                case .deadline: return .nullArray
                case .closed: return .error("TRYAGAIN the server is shutting down or the connection closed")
                }
            }
        } catch {
            return .error(error.redisMessage)
        }
    }

    /// EVAL, FCALL, SCRIPT and FUNCTION: a call that may write, and every command that changes the stored
    /// scripts or libraries, is proposed as a transaction entry of that one command (applied atomically on
    /// every replica, starting in the connection's database; a SELECT inside a script stays inside it); the
    /// others are reads. SCRIPT KILL reaches this node's running read-only scripts.
    func script(_ command: ScriptCommand, arguments: [[UInt8]], database: UInt8) async -> RESPValue {
        if case .kill = command { return backend.scripts.kill() }
        do throws(BackendError) {
            guard command.isReplicated else {
                return try await backend.read(database == 0 ? .script(command) : .inDatabase(database, .script(command)))
            }
            var commands = [arguments]
            if database != 0 { commands.insert([Array("SELECT".utf8), Array(String(database).utf8)], at: 0) }
            let entry = TransactionEntry(proposedTS: 0, nowMillis: 0, watches: [], commands: commands)
            guard let replies = try await backend.execute(entry), let reply = replies.last, replies.count == commands.count else {
                return .error("ERR the script entry was answered with something other than its reply")
            }
            return reply
        } catch {
            return .error(error.redisMessage)
        }
    }

    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH with Redis's replies. EXEC proposes every queued read and write
    /// as one Raft entry (applied atomically, or not at all when a watched key changed: a null array);
    /// queued connection commands are answered here, in their places.
    func transaction(_ command: TransactionCommand, session: inout ConnectionSession) async -> RESPValue {
        switch command {
        case .multi:
            return session.transaction.begin()
        case .discard:
            return session.transaction.finish() == nil ? .error("ERR DISCARD without MULTI") : .ok
        case .unwatch:
            session.transaction.watches = []
            return .ok
        case .watch(let keys):
            guard !session.transaction.isOpen else { return .error("ERR WATCH inside MULTI is not allowed") }
            do throws(BackendError) {
                return session.transaction.watch(try await backend.watch(keys, database: session.database))
            } catch {
                return .error(error.redisMessage)
            }
        case .exec:
            guard let (queued, refused, watches) = session.transaction.finish() else {
                return .error("ERR EXEC without MULTI")
            }
            guard !refused else { return TransactionState.execAbort }
            var commands = TransactionState.dataCommands(queued)
            var dataReplies: [RESPValue] = []
            if !commands.isEmpty || !watches.isEmpty {
                // The entry starts in the connection's database; a SELECT inside it moves the connection too.
                let selects = session.database != 0 && !commands.isEmpty
                if selects { commands.insert([Array("SELECT".utf8), Array(String(session.database).utf8)], at: 0) }
                do throws(BackendError) {
                    let entry = TransactionEntry(proposedTS: 0, nowMillis: 0, watches: watches, commands: commands)
                    guard let replies = try await backend.execute(entry) else { return .nullArray }
                    dataReplies = selects ? Array(replies.dropFirst()) : replies
                } catch {
                    return .error(error.redisMessage)
                }
                if let selected = TransactionState.lastSelect(in: commands, replies: dataReplies, skipping: selects ? 1 : 0) {
                    session.database = selected
                }
            }
            var published: [RESPValue] = []
            for case .pubSub(let command) in queued { published.append(await pubSub(command)) }
            return TransactionState.merge(queued, dataReplies: dataReplies, pubSubReplies: published) { command in
                session.respond(to: command, info: serverInfo).reply
            }
        }
    }
}

/// Per-command request counters, error counters and latency histograms of the Redis listener.
///
/// Every command records here, so each command name's series are resolved once and kept.
final class RedisMetrics: Sendable {
    struct Series {
        let commands: MetricCounter
        let errors: MetricCounter
        let duration: MetricHistogram
    }

    let registry: MetricsRegistry
    private let series = Mutex<[String: Series]>([:])

    init(registry: MetricsRegistry) {
        self.registry = registry
    }

    func record(command: [UInt8]?, reply: RESPValue, duration: Duration) {
        let raw = command.map { String(decoding: $0.prefix(32), as: UTF8.self).lowercased() } ?? ""
        let name = RedisCommandParser.commandNameSet.contains(raw) ? raw : "unknown"
        let handles = series(for: name)
        handles.commands.increment()
        if case .error = reply { handles.errors.increment() }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        handles.duration.record(seconds)
    }

    private func series(for name: String) -> Series {
        if let known = series.withLock({ $0[name] }) { return known }
        let labels = ["command": name]
        let created = Series(
            commands: registry.counter("elastickv_redis_commands_total", help: "Redis commands received",
                                       labels: labels),
            errors: registry.counter("elastickv_redis_command_errors_total",
                                     help: "Redis commands answered with an error", labels: labels),
            duration: registry.histogram("elastickv_redis_command_duration_seconds", help: "Redis command latency",
                                         labels: labels))
        series.withLock { $0[name] = created }
        return created
    }
}
