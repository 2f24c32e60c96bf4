import CronSchedule
let s = try! Schedule("30 2 * * *", timeZone: "Europe/Dublin")
print(s.next(after: 0)!)
