/// What build of elastickv this is; printed by `--version` and exported as `elastickv_build_info`.
public enum BuildInfo {
    /// The release version.
    public static let version = "0.3.0"
    /// The source commit. A plain SwiftPM build runs no git, so this stays "unknown" unless a release script
    /// rewrites it before building.
    public static let commit = "unknown"

    /// The `--version` line.
    public static var versionLine: String { "\(version) (commit \(commit))" }
}
