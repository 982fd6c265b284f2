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
