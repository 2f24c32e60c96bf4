import MonitorCore

/// The status page's look, kept apart from its structure. Colours follow traffic lights so
/// the page reads at a glance; everything is inline because the page fetches nothing.
enum StatusPageStyle {
    /// Problems first, worst first; the summary bar uses the same order.
    static let order: [JobState] = [.lost, .missed, .failed, .overdue, .slow, .fast, .late, .recovering, .running,
                                         .up, .new, .paused]

    static func rank(_ state: JobState) -> Int {
        // Running and up jobs are equally healthy: one alphabetical block.
        state == .running ? rank(.up) : order.firstIndex(of: state) ?? order.count
    }

    /// The tab title says whether anything is wrong without opening the tab.
    static func title(_ rows: [StatusRow]) -> String {
        let problems = rows.filter { downStates.contains($0.state) }.count
        return problems == 0 ? "All \(rows.count) jobs OK" : "\(problems) of \(rows.count) jobs need attention"
    }

    static let legend = ["ran", "late", "failed", "missed"].map {
        "<i class=\"k \($0)\"></i>\($0)"
    }.joined(separator: " ")

    static let css = """
    :root{--ok:#2da44e;--run:#0969da;--late:#d4a72c;--miss:#cf222e;--fail:#a40e26;--over:#e16f24;\
    --pause:#8c959f;--new:#afb8c1;--fg:#1f2328;--dim:#656d76;--line:#d8dee4;--bg:#f6f8fa}
    *{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;\
    color:var(--fg);background:var(--bg)}
    header{padding:14px 24px 8px;background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:1}
    h1{font-size:18px;margin:0 16px 0 0;display:inline-block;vertical-align:middle}
    .bar{display:inline-flex;gap:8px;margin:0;padding:0;list-style:none;vertical-align:middle;flex-wrap:wrap}
    .bar li{padding:2px 10px;border-radius:12px;background:var(--bg);border:1px solid var(--line)}
    .bar li.s-missed,.bar li.s-failed,.bar li.s-overdue,.bar li.s-lost{color:#fff;border-color:transparent}
    .asof{margin:6px 0 0;color:var(--dim);font-size:12px}.asof a{color:var(--dim)}
    main{padding:12px 24px 32px}table{width:100%;border-collapse:collapse;background:#fff;\
    border:1px solid var(--line);border-radius:6px}
    th{text-align:left;white-space:nowrap;font-size:12px;font-weight:600;color:var(--dim);padding:8px 10px;border-bottom:1px solid var(--line)}
    td{padding:5px 10px;border-bottom:1px solid #eef1f4;vertical-align:middle;white-space:nowrap}
    tr:last-child td{border-bottom:0}tr:target td{background:#fff8c5}
    td small{display:block;color:var(--dim);font-size:12px;max-width:360px;overflow:hidden;text-overflow:ellipsis}
    .name{color:var(--fg);font-weight:600;text-decoration:none}.name:hover{text-decoration:underline}
    .pill{display:inline-block;min-width:64px;text-align:center;padding:1px 8px;border-radius:10px;font-size:12px;\
    font-weight:600;color:#fff;background:var(--c)}.pill.flap{background:var(--over)}
    td:first-child{border-left:4px solid var(--c)}
    .s-up{--c:var(--ok)}.s-running{--c:var(--run)}.s-late{--c:var(--late)}.s-slow{--c:var(--late)}.s-fast{--c:var(--late)}\
    .s-recovering{--c:var(--run)}.s-missed{--c:var(--miss)}\
    .s-failed{--c:var(--fail)}.s-overdue{--c:var(--over)}.s-lost{--c:var(--fail)}.s-paused{--c:var(--pause)}.s-new{--c:var(--new)}
    .bar li[class^=s-]::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;\
    background:var(--c);margin-right:6px}.bar li.s-missed::before,.bar li.s-failed::before,.bar li.s-overdue::before,.bar li.s-lost::before{background:#fff}.bar li.s-missed,.bar li.s-failed,.bar li.s-overdue,.bar li.s-lost{background:var(--c)}
    tr.s-missed,tr.s-failed,tr.s-overdue,tr.s-lost{background:#fff5f5}
    .r-ok{color:var(--ok)}.r-bad{color:var(--miss);font-weight:600}.r-running{color:var(--run)}.dim{color:var(--dim)}
    code{font-size:12px;background:var(--bg);padding:0 4px;border-radius:3px}
    .tl{display:block;background:#f0f2f4;border-radius:3px}.tl .grid{stroke:#d0d7de;stroke-width:1}
    .ran{fill:var(--ok)}.late{fill:var(--late)}.failed{fill:var(--fail)}.missed{fill:var(--miss)}\
    .running{fill:var(--run)}.pending{fill:var(--new)}
    .tlh{width:300px}.legend{font-weight:400;margin-left:8px}.k{display:inline-block;width:9px;height:9px;\
    border-radius:2px;margin:0 3px 0 6px;vertical-align:-1px}.k.ran{background:var(--ok)}.k.late{background:var(--late)}\
    .k.failed{background:var(--fail)}.k.missed{background:var(--miss)}
    """
}
