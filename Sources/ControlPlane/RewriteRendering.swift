import Foundation

/// What `encryption rewrite --wait` and `encryption rewrite-status` print: a progress bar (rows done out of
/// the rows stored, rate, ETA), one JSON line per progress report, and the status as text or JSON.
///
/// JSON keys (both forms): `state`, `target_key_id`, `active_storage_key_id`, `rows_per_second` (the run's
/// limit), `rows_examined`, `rows_resealed`, `total_rows`, `remaining_rows`, `started_index`,
/// `finished_index`; progress lines add `measured_rows_per_second` and `eta_seconds` (null when unknown).
public enum RewriteRendering {
    /// The width of the bar in characters.
    static let barWidth = 30

    /// The fraction of the stored rows the run covered, 0…1.
    static func fraction(_ status: RewriteStatus) -> Double {
        if status.state == .finished { return 1 }
        guard status.totalRows > 0 else { return 0 }
        return min(1, Double(status.examinedRows) / Double(status.totalRows))
    }

    /// Seconds left at `rate` rows per second; `nil` when the rate is unknown.
    static func eta(_ status: RewriteStatus, rate: Double?) -> Int? {
        if status.state == .finished { return 0 }
        guard let rate, rate > 0 else { return nil }
        let left = status.totalRows > status.examinedRows ? status.totalRows - status.examinedRows : 0
        return Int((Double(left) / rate).rounded(.up))
    }

    /// `1h 2m 3s`, `4m 5s`, `6s`.
    static func duration(_ seconds: Int) -> String {
        let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60)
        if hours > 0 { return "\(hours)h \(minutes)m \(rest)s" }
        if minutes > 0 { return "\(minutes)m \(rest)s" }
        return "\(rest)s"
    }

    /// One progress bar line (without a line break), e.g.
    /// `rewrite [###############---------------]  50%  1000/2000 rows  400 rows/s  ETA 3s`.
    ///
    /// - Parameter measuredRate: rows per second seen between the last two reports; the run's limit is shown
    ///   when there is none yet.
    public static func bar(_ status: RewriteStatus, measuredRate: Double?) -> String {
        let fraction = fraction(status)
        let filled = Int((fraction * Double(barWidth)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled)
        let rate = measuredRate ?? Double(status.rowsPerSecond)
        let eta = eta(status, rate: measuredRate ?? (status.rowsPerSecond > 0 ? Double(status.rowsPerSecond) : nil))
        let percent = String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
        return "rewrite [\(bar)] \(percent)  \(status.examinedRows)/\(status.totalRows) rows  "
            + "\(Int(rate.rounded())) rows/s  ETA \(eta.map(duration) ?? "?")"
    }

    /// One JSON progress line.
    public static func progressJSON(_ status: RewriteStatus, measuredRate: Double?) -> String {
        var object = fields(status)
        object["measured_rows_per_second"] = measuredRate.map { ($0 * 10).rounded() / 10 } ?? NSNull()
        object["eta_seconds"] = eta(status, rate: measuredRate ?? (status.rowsPerSecond > 0
            ? Double(status.rowsPerSecond) : nil)) ?? NSNull()
        return encode(object)
    }

    /// `rewrite-status` as text.
    public static func text(_ status: RewriteStatus) -> String {
        guard let target = status.targetKeyID, status.state != .none else {
            return "no rewrite has run; \(status.remainingRows) of \(status.totalRows) stored versions are in "
                + "cleartext or under an older storage DEK"
        }
        var lines = ["rewrite under storage DEK \(target): \(status.state.rawValue) (started at index "
            + "\(status.startedIndex)\(status.state == .finished ? ", finished at \(status.finishedIndex)" : ""))",
                     "\(status.examinedRows) rows covered, \(status.resealedRows) re-sealed on this node at up to "
                + "\(status.rowsPerSecond) rows/s; \(status.totalRows) versions stored, \(status.remainingRows) "
                + "still in cleartext or under an older DEK"]
        if let active = status.activeStorageKeyID, active != target {
            lines.append("the active storage DEK is \(active) now: run `elastickv-admin encryption rewrite` again")
        }
        return lines.joined(separator: "\n")
    }

    /// `rewrite-status` as one JSON document.
    public static func json(_ status: RewriteStatus) -> String { encode(fields(status)) }

    static func fields(_ status: RewriteStatus) -> [String: Any] {
        [
            "state": status.state.rawValue, "target_key_id": status.targetKeyID.map { $0 as Any } ?? NSNull(),
            "active_storage_key_id": status.activeStorageKeyID.map { $0 as Any } ?? NSNull(),
            "rows_per_second": status.rowsPerSecond, "rows_examined": status.examinedRows,
            "rows_resealed": status.resealedRows, "total_rows": status.totalRows,
            "remaining_rows": status.remainingRows, "started_index": status.startedIndex,
            "finished_index": status.finishedIndex,
        ]
    }

    static func encode(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            preconditionFailure("numbers, strings and null always encode as JSON")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
