extension Sidecar {
    /// Formats seconds since the Unix epoch as the sidecar's `created` value, `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    ///
    /// Computed from the entry's own timestamp rather than a clock, so every replica and every replay writes the
    /// same text.
    /// - Precondition: `unixSeconds <= EntryLimits.maxCreatedUnixSeconds` (the codecs enforce it).
    public static func createdTimestamp(unixSeconds: UInt64) -> String {
        precondition(unixSeconds <= EntryLimits.maxCreatedUnixSeconds, "creation times are checked by the codec")
        let secondsPerDay: UInt64 = 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: Int64(unixSeconds / secondsPerDay))
        let secondOfDay = Int(unixSeconds % secondsPerDay)
        let parts = [year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60]
        let widths = [4, 2, 2, 2, 2, 2]
        let padded = zip(parts, widths).map { value, width in
            String(repeating: "0", count: max(0, width - String(value).count)) + String(value)
        }
        return "\(padded[0])-\(padded[1])-\(padded[2])T\(padded[3]):\(padded[4]):\(padded[5])Z"
    }

    /// The seconds since the Unix epoch of a `created` value, the inverse of ``createdTimestamp(unixSeconds:)``.
    ///
    /// - Returns: `nil` when the text is not exactly `YYYY-MM-DDTHH:MM:SSZ` with a real date and time from
    ///   1970 on.
    public static func unixSeconds(ofCreated text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              year >= 1970, (1...12).contains(month), (0..<24).contains(hour), (0..<60).contains(minute),
              (0..<60).contains(second) else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        // A day past the month's end (Feb 30) maps to another date: only dates that come back unchanged count.
        guard day >= 1, civilDate(daysSinceEpoch: days) == (year, month, day) else { return nil }
        return UInt64(days) * 86_400 + UInt64(hour * 3600 + minute * 60 + second)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (from 1970 on): the inverse of
    /// ``civilDate(daysSinceEpoch:)``, with the same March-based years and 400-year cycles.
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let marchYear = Int64(month <= 2 ? year - 1 : year)
        let cycle = marchYear / 400
        let yearOfCycle = marchYear - cycle * 400
        let monthFromMarch = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfCycle = yearOfCycle * 365 + yearOfCycle / 4 - yearOfCycle / 100 + dayOfYear
        return cycle * 146_097 + dayOfCycle - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (non-negative).
    ///
    /// Shifts the year to start on 1 March so the leap day is the last day of its year, then splits the day
    /// count into 400-year cycles (146,097 days each), years within the cycle, and months of 153-day pairs.
    private static func civilDate(daysSinceEpoch days: Int64) -> (year: Int, month: Int, day: Int) {
        let daysFromMarchYearZero = days + 719_468
        let cycle = daysFromMarchYearZero / 146_097
        let dayOfCycle = daysFromMarchYearZero - cycle * 146_097
        let yearOfCycle = (dayOfCycle - dayOfCycle / 1_460 + dayOfCycle / 36_524 - dayOfCycle / 146_096) / 365
        let dayOfYear = dayOfCycle - (365 * yearOfCycle + yearOfCycle / 4 - yearOfCycle / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfCycle + cycle * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
