import DurableIO

/// How Redis keys and the elements of collections map to `kv_versions` row keys (docs/formats.md §2a).
///
/// ```
/// primary row   0x00 ‖ db u8 ‖ user_key                a string's value, or a collection's metadata
/// element row   0x01 ‖ generation u64 ‖ element part    one element of the collection with that generation
/// ```
///
/// Element rows are named by the collection's generation (fixed when the collection is created, carried in
/// its metadata), not by its user key, so RENAME moves only the metadata row; an element part never holds
/// user bytes (a list's is a sequence number).
public enum RedisKeyspace {
    static let primaryTag: UInt8 = 0x00
    static let elementTag: UInt8 = 0x01

    /// The databases SELECT reaches.
    public static let databaseCount = 16

    /// The row key of `key`'s value (or metadata) in `database`.
    public static func primary(_ key: [UInt8], database: UInt8 = 0) -> [UInt8] {
        var row: [UInt8] = []
        row.reserveCapacity(2 + key.count)
        row.append(primaryTag)
        row.append(database)
        row.append(contentsOf: key)
        return row
    }

    /// The user key of a primary row of `database`; `nil` for any other row.
    public static func userKey(ofPrimary row: [UInt8], database: UInt8 = 0) -> [UInt8]? {
        guard row.count >= 2, row[0] == primaryTag, row[1] == database else { return nil }
        return Array(row[2...])
    }

    /// The first primary row at or after `position` (a database byte, then a key), over every database.
    public static func primaryRows(from position: [UInt8]) -> [UInt8] { [primaryTag] + position }

    /// The end (exclusive) of every database's primary rows.
    public static let primaryRowsEnd: [UInt8] = [elementTag]

    /// The database and user key of a primary row; `nil` for any other row.
    public static func primaryParts(_ row: [UInt8]) -> (database: UInt8, key: [UInt8])? {
        guard row.count >= 2, row[0] == primaryTag else { return nil }
        return (row[1], Array(row[2...]))
    }

    /// The end (exclusive) of `database`'s primary rows.
    public static func primaryEnd(database: UInt8 = 0) -> [UInt8] {
        database == .max ? [elementTag] : [primaryTag, database + 1]
    }

    /// The row key of one element of the collection `generation`.
    static func element(_ generation: UInt64, _ part: [UInt8]) -> [UInt8] {
        var row: [UInt8] = []
        row.reserveCapacity(9 + part.count)
        row.append(elementTag)
        row.appendBigEndian(generation)
        row.append(contentsOf: part)
        return row
    }

    /// The end (exclusive) of `generation`'s element rows.
    static func generationEnd(_ generation: UInt64) -> [UInt8] {
        generation == .max ? [elementTag + 1] : element(generation + 1, [])
    }

    /// The element part of an element row of `generation`.
    static func elementPart(of row: [UInt8], generation: UInt64) -> ArraySlice<UInt8>? {
        guard row.count >= 9, row[0] == elementTag, UInt64(bigEndianBytes: Array(row[1..<9])) == generation else {
            return nil
        }
        return row[9...]
    }
}
