import KV
import RESP
import RedisCommands
import Storage

/// The raw gRPC key-value API served by a node: values are Redis strings, so both APIs see the same data.
public struct NodeKeyValueAccess: RawKeyValueAccess {
    let backend: NodeRedisBackend
    let store: MVCCStore

    public init(backend: NodeRedisBackend, store: MVCCStore) {
        self.backend = backend
        self.store = store
    }

    public func get(key: [UInt8], leaseRead: Bool) async throws(RawKeyValueError) -> [UInt8]? {
        let reply: RESPValue
        do throws(BackendError) { reply = try await backend.read(.get(key), lease: leaseRead) } catch {
            throw Self.map(error)
        }
        switch reply {
        case .bulkString(let bytes): return bytes
        case .null: return nil
        case .error(let message): throw .failed(message)
        default: throw .failed("unexpected reply to GET")
        }
    }

    public func put(key: [UInt8], value: [UInt8]) async throws(RawKeyValueError) {
        let command = Command.set(key: key, value: value, condition: .always, expiry: .none, returnOld: false)
        do throws(BackendError) { _ = try await backend.execute(command) } catch { throw Self.map(error) }
    }

    public func delete(key: [UInt8]) async throws(RawKeyValueError) -> Bool {
        let result: CommandResult
        do throws(BackendError) { result = try await backend.execute(.delete(keys: [key])) } catch {
            throw Self.map(error)
        }
        return result == .integer(1)
    }

    public func scan(start: [UInt8], end: [UInt8]?, limit: Int) async throws(RawKeyValueError)
        -> [(key: [UInt8], value: [UInt8])]
    {
        do throws(BackendError) { try await backend.node.readBarrier() } catch { throw Self.map(error) }
        do throws(StorageError) {
            let versions = try store.scan(from: RedisKeyspace.primary(start),
                                          to: end.map { RedisKeyspace.primary($0) } ?? RedisKeyspace.primaryEnd(),
                                          nowMillis: backend.nowMillis(), limit: limit)
            return versions.compactMap { version in
                guard let key = RedisKeyspace.userKey(ofPrimary: version.key),
                      case .string(let bytes)? = try? RedisValue(decoding: version.body) else { return nil }
                return (key, bytes)
            }
        } catch {
            throw .unavailable(error.description)
        }
    }

    static func map(_ error: BackendError) -> RawKeyValueError {
        switch error {
        case .noLeader: return .notLeader(leaderAddress: nil)
        case .ambiguous(let reason): return .ambiguous(reason)
        case .tryAgain(let reason), .unavailable(let reason): return .unavailable(reason)
        case .notLeader: return .notLeader(leaderAddress: nil)
        case .refused(let reason): return .invalidArgument(reason)
        }
    }
}
