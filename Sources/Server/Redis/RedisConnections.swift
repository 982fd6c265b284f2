import NIOCore
import Synchronization

/// The Redis listener's open connections and whether each is executing a request, so that shutdown can
/// drain: stop accepting, close idle connections at once, let busy ones finish the request they are
/// executing and write its reply, then close them (see ``RedisServer/drain(within:)``).
///
/// `begin` and `startDrain` decide under one lock, so a request is either started before the drain (and
/// answered) or refused by it (never executed: the connection closes without a reply).
final class RedisConnections: Sendable {
    /// What CLIENT LIST shows of a connection.
    struct Client: Sendable {
        var address = "?:0"
        var localAddress = "?:0"
        let opened = ContinuousClock.now
        var lastActive = ContinuousClock.now
        var lastCommand = "NULL"
        var name: [UInt8]?
        var user = "default"
        var database: UInt8 = 0
        var protocolVersion = 2
        var queued: Int?
        var blocked = false
    }

    private struct State {
        var channels: [Int64: any Channel] = [:]
        var clients: [Int64: Client] = [:]
        var busy: Set<Int64> = []
        var listeners: [any Channel] = []
        var draining = false
    }

    private let state = Mutex(State())

    /// Records an accepting channel (plaintext or TLS), closed when the drain starts. False when draining
    /// already began.
    func attach(listener: any Channel) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.listeners.append(listener)
            return true
        }
    }

    /// Records an accepted connection. False when draining: the caller closes it unserved.
    func open(_ id: Int64, _ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.channels[id] = channel
            var client = Client()
            client.address = Self.text(channel.remoteAddress)
            client.localAddress = Self.text(channel.localAddress)
            state.clients[id] = client
            return true
        }
    }

    func closed(_ id: Int64) {
        state.withLock { state in
            state.channels[id] = nil
            state.clients[id] = nil
            state.busy.remove(id)
        }
    }

    /// Marks `id` as executing a request. False when draining: the request must not be executed.
    func begin(_ id: Int64) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.busy.insert(id)
            return true
        }
    }

    /// Marks `id` idle after its reply was written; true when draining (the caller closes the connection).
    func end(_ id: Int64) -> Bool {
        state.withLock { state in
            state.busy.remove(id)
            return state.draining
        }
    }

    /// Starts draining: returns the listener and every idle connection, to close now.
    func startDrain() -> [any Channel] {
        state.withLock { state in
            state.draining = true
            let idle = state.channels.filter { !state.busy.contains($0.key) }.map(\.value)
            let listeners = state.listeners
            state.listeners = []
            return listeners + idle
        }
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    var busyCount: Int { state.withLock { $0.busy.count } }

    /// Records what a connection just did, for CLIENT LIST.
    func record(_ id: Int64, _ update: (inout Client) -> Void) {
        state.withLock { state in
            guard var client = state.clients[id] else { return }
            update(&client)
            state.clients[id] = client
        }
    }

    /// Every open connection's record, by id.
    /// The `ip:port` of connection `id` (`?:0` once closed).
    func address(of id: Int64) -> String {
        state.withLock { $0.clients[id]?.address ?? "?:0" }
    }

    var clients: [(id: Int64, client: Client)] {
        state.withLock { state in state.clients.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// Closes the connections whose id is in `ids` or whose address is in `addresses`, except `sparing`;
    /// answers how many.
    func kill(ids: [Int64], addresses: [String], sparing: Int64?) -> Int {
        let doomed = state.withLock { state in
            state.clients.filter { id, client in
                id != sparing && (ids.contains(id) || addresses.contains(client.address))
            }.compactMap { state.channels[$0.key] }
        }
        for channel in doomed { channel.close(promise: nil) }
        return doomed.count
    }

    static func text(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "?:0" }
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// How many client connections are open.
    var openCount: Int { state.withLock { $0.channels.count } }

    /// Every connection still open (closed when the drain's time is up).
    var remaining: [any Channel] { state.withLock { Array($0.channels.values) } }
}
