public enum JobwatchVersion {
    public static let current = "0.1.0"
}
