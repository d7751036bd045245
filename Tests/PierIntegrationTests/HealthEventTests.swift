import Foundation
import Testing

/// Health checks and the event stream, through `pier` and the real docker CLI.
@Suite(.serialized) struct HealthEventTests {
    /// Polls `inspect` until the health status is `wanted` (or 15 s pass); returns the last one seen.
    func waitForHealth(_ daemon: TestDaemon, _ name: String, _ wanted: String) -> String {
        var status = ""
        for _ in 0..<150 {
            status = daemon.pier(["inspect", "--format", "{{.State.Health.Status}}", name]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if status == wanted { break }
            usleep(100_000)
        }
        return status
    }

    @Test func healthGoesFromStartingToUnhealthyToHealthy() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let run = daemon.pier(["run", "-d", "--name", "web", "--health-cmd", "test -f /tmp/ready && echo ready",
                                   "--health-interval", "300ms", "--health-retries", "2", "busybox", "sleep", "60"])
            #expect(run.status == 0, "\(run)")
            #expect(daemon.pier(["ps", "--format", "{{.Status}}"]).stdout.contains("(health: starting)"))
            #expect(waitForHealth(daemon, "web", "unhealthy") == "unhealthy")
            #expect(daemon.pier(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix("(unhealthy)\n"))
            #expect(daemon.pier(["exec", "web", "touch", "/tmp/ready"]).status == 0)
            #expect(waitForHealth(daemon, "web", "healthy") == "healthy")
            #expect(daemon.pier(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix("(healthy)\n"))
            #expect(daemon.pier(["ps", "-q", "--filter", "health=healthy"]).stdout.count == 13)
            #expect(daemon.pier(["ps", "-q", "--filter", "health=unhealthy"]).stdout.isEmpty)
            let log = daemon.pier(["inspect", "--format", "{{range .State.Health.Log}}{{.ExitCode}}:{{.Output}}|{{end}}", "web"]).stdout
            #expect(log.contains("0:ready\n|"), "\(log)")
            #expect(log.contains("1:|"), "\(log)")
            #expect(daemon.pier(["inspect", "--format", "{{.State.Health.FailingStreak}}", "web"]).stdout == "0\n")

            // The events of that story, in order, through pier and through the docker CLI.
            let events = daemon.pier(["events", "--since", "1m", "--until", "0s", "--filter", "container=web",
                                      "--format", "{{.Action}}"]).stdout.split(separator: "\n").map(String.init)
            #expect(events == ["create", "start", "health_status: unhealthy", "health_status: healthy"], "\(events)")
            // The docker CLI sends whole seconds: end the stream a little in the future.
            let until = String(Int(Date().timeIntervalSince1970) + 2)
            let docker = daemon.docker(["events", "--since", "1m", "--until", until, "--filter", "event=health_status",
                                        "--format", "{{.Actor.Attributes.name}} {{.Action}}"])
            #expect(docker.stdout == "web health_status: unhealthy\nweb health_status: healthy\n", "\(docker)")
            #expect(daemon.pier(["rm", "-f", "web"]).status == 0)

            // Image events too.
            #expect(daemon.pier(["tag", "busybox", "events:1"]).status == 0)
            #expect(daemon.pier(["rmi", "events:1"]).status == 0)
            let images = daemon.pier(["events", "--since", "1m", "--until", "0s", "--filter", "type=image",
                                      "--format", "{{.Action}} {{.Actor.Attributes.name}}"]).stdout
            #expect(images.contains("tag events:1\nuntag events:1\n"), "\(images)")
        }
    }

    @Test func timeoutsNoHealthcheckAndBadFlags() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "-d", "--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "200ms",
                                 "--health-timeout", "200ms", "--health-retries", "1", "busybox", "sleep", "60"]).status == 0)
            #expect(waitForHealth(daemon, "slow", "unhealthy") == "unhealthy")
            let output = daemon.pier(["inspect", "--format", "{{(index .State.Health.Log 0).Output}} {{(index .State.Health.Log 0).ExitCode}}", "slow"])
            #expect(output.stdout == "Health check exceeded timeout (200ms) -1\n", "\(output)")
            #expect(daemon.pier(["rm", "-f", "slow"]).status == 0)

            #expect(daemon.pier(["run", "-d", "--name", "plain", "--no-healthcheck", "busybox", "sleep", "60"]).status == 0)
            // As Docker: no `Health` in the state at all (so `{{.State.Health}}` fails the same way).
            let state = daemon.pier(["inspect", "--format", "{{json .State}}", "plain"]).stdout
            #expect(state.contains("\"Running\":true") && !state.contains("Health"), "\(state)")
            #expect(daemon.pier(["ps", "--format", "{{.Status}}"]).stdout.hasPrefix("Up "))
            #expect(!daemon.pier(["ps", "--format", "{{.Status}}"]).stdout.contains("health"))
            #expect(daemon.pier(["rm", "-f", "plain"]).status == 0)

            let bad = daemon.pier(["run", "--health-interval", "5 parsecs", "busybox", "true"])
            #expect(bad.status == 125)
            #expect(bad.stderr.contains("invalid argument \"5 parsecs\" for \"--health-interval\" flag"), "\(bad)")
            let conflict = daemon.pier(["run", "--no-healthcheck", "--health-cmd", "true", "busybox", "true"])
            #expect(conflict.status == 125)
            #expect(conflict.stderr.contains("--no-healthcheck conflicts with --health-* options"))
        }
    }

    @Test func dockerCLISeesHealth() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let run = daemon.docker(["run", "-d", "--name", "d1", "--health-cmd", "true", "--health-interval", "300ms",
                                     "busybox", "sleep", "60"])
            #expect(run.status == 0, "\(run)")
            var status = ""
            for _ in 0..<100 {
                status = daemon.docker(["inspect", "--format", "{{.State.Health.Status}}", "d1"]).stdout
                if status == "healthy\n" { break }
                usleep(100_000)
            }
            #expect(status == "healthy\n")
            #expect(daemon.docker(["ps", "--format", "{{.Status}}"]).stdout.hasSuffix("(healthy)\n"))
            #expect(daemon.docker(["rm", "-f", "d1"]).status == 0)
        }
    }

    @Test func healthSurvivesADaemonRestart() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "-d", "--name", "keep", "--health-cmd", "test ! -f /tmp/sick",
                                 "--health-interval", "300ms", "--health-retries", "1", "busybox", "sleep", "60"]).status == 0)
            #expect(waitForHealth(daemon, "keep", "healthy") == "healthy")
            daemon.kill()
            let restarted = try daemon.restart()
            defer { restarted.stop() }
            #expect(waitForHealth(restarted, "keep", "healthy") == "healthy")
            // The monitor runs again after the restart: a new failure is seen.
            #expect(restarted.pier(["exec", "keep", "touch", "/tmp/sick"]).status == 0)
            #expect(waitForHealth(restarted, "keep", "unhealthy") == "unhealthy")
            #expect(restarted.pier(["rm", "-f", "keep"]).status == 0)
        }
    }
}

/// `stats`, through pier and the docker CLI.
@Suite(.serialized) struct StatsTests {
    @Test func statsShowLimitsUsageAndPids() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "-d", "--name", "spin", "--memory", "64m", "--pids-limit", "50", "busybox", "sh", "-c",
                                 "sleep 100 & while true; do :; done"]).status == 0)
            let stats = daemon.pier(["stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", "spin"])
            #expect(stats.status == 0, "\(stats)")
            let fields = stats.stdout.trimmingCharacters(in: .newlines).split(separator: "|").map(String.init)
            #expect(fields.count == 4, "\(stats)")
            if fields.count == 4 {
                #expect(fields[0] == "spin")
                // A busy loop uses CPU: well above zero on any machine.
                let cpu = Double(fields[1].dropLast()) ?? 0
                #expect(cpu > 10, "\(fields[1])")
                #expect(fields[2].hasSuffix(" / 64MiB"), "\(fields[2])")
                #expect(fields[3] == "2", "\(fields[3])")   // sh and sleep
            }
            let table = daemon.pier(["stats", "--no-stream"]).stdout
            // Docker's columns (their widths follow the values: a bridge's counters widen NET I/O).
            let header = (table.split(separator: "\n").first ?? "").split(separator: "  ", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(header == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"],
                    "\(table)")
            let docker = daemon.docker(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "spin"])
            #expect(docker.stdout.hasPrefix("spin ") && docker.stdout.contains(" / 64MiB 2"), "\(docker)")
            let missing = daemon.pier(["stats", "--no-stream", "nosuch"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("No such container: nosuch"))
            #expect(daemon.pier(["rm", "-f", "spin"]).status == 0)
        }
    }
}
