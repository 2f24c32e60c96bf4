/// How the sending thread hands encoded messages to Graylog.
protocol Transport: AnyObject {
    /// Sends `payloads` (GELF JSON, one message each) in order; returns how many were not
    /// delivered. While the receiver is unreachable it retries with backoff, holding the
    /// batch, until `giveUp` returns true; meanwhile the queue keeps only the newest lines.
    func deliver(_ payloads: ArraySlice<[UInt8]>, giveUp: () -> Bool) -> Int
    func close()
}
