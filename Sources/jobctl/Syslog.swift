#if canImport(Glibc)
import Glibc
#endif

/// Operator overrides leave a trace in the system log, not only on the operator's terminal.
func logToSyslog(_ message: String) {
    openlog("jobctl", LOG_PID, LOG_AUTHPRIV)
    withVaList([message]) { vsyslog(LOG_NOTICE, "%s", $0) }
    closelog()
}
