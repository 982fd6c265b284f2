import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for test processes whose members must know each other's addresses before they start.
///
/// A port handed out by binding port 0 lies in the kernel's ephemeral range, where every outgoing
/// connection also takes its local port: between the test releasing it and a node binding it — or while a
/// node is stopped for a restart — a connection can land on it and the bind fails with EADDRINUSE. Ports
/// are therefore drawn at random below the ephemeral range, checked by binding them, and never handed out
/// twice by one test process (suites run in parallel). `Python/ports.py` does the same for the scripts.
public enum TestPorts {
    public enum Failure: Error, CustomStringConvertible {
        case exhausted(found: Int, wanted: Int, host: String)
        public var description: String {
            switch self {
            case .exhausted(let found, let wanted, let host):
                "found only \(found) of \(wanted) free ports below the ephemeral range on \(host)"
            }
        }
    }

    static let lowest = 10_000
    private static let handedOut = Mutex<Set<Int>>([])

    /// `count` distinct ports on `host` (an IPv4 literal), each free now and outside the ephemeral range.
    public static func free(_ count: Int, host: String = "127.0.0.1") throws -> [Int] {
        let ceiling = max(ephemeralFloor(), lowest + 1_000)
        var chosen: [Int] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<(count * 200) where chosen.count < count {
            let port = Int.random(in: lowest..<ceiling, using: &generator)
            guard handedOut.withLock({ $0.insert(port).inserted }), bindable(port, host: host) else { continue }
            chosen.append(port)
        }
        guard chosen.count == count else { throw Failure.exhausted(found: chosen.count, wanted: count, host: host) }
        return chosen
    }

    /// One port, as `free(1)`.
    public static func one(host: String = "127.0.0.1") throws -> Int { try free(1, host: host)[0] }

    /// The first port of the kernel's ephemeral range (32768 when it cannot be read).
    static func ephemeralFloor() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
            let first = text.split(whereSeparator: \.isWhitespace).first, let floor = Int(first)
        else { return 32_768 }
        return floor
    }

    static func bindable(_ port: Int, host: String) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
