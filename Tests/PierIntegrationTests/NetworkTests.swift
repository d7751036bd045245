import Foundation
import Testing

/// Networks through the real `pier` CLI and the real docker CLI, against a real `pierd`, on
/// loopback and in the containers' own network namespaces only. Every test checks that nothing
/// it made (bridges, veth pairs, nftables tables) outlives its daemon.
@Suite(.serialized) struct NetworkTests {
    /// A web server in busybox: `httpd` serving `text` as its index page on port 80.
    static let webServer = ["sh", "-c", "mkdir -p /www && echo \"$MESSAGE\" > /www/index.html && exec httpd -f -p 80 -h /www"]

    /// A free TCP port on 127.0.0.1.
    static func freePort() -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20000...30000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if bound == 0 { return port }
        }
        return 28080
    }

    /// busybox wget bounded by `timeout` under a shell: as PID 1, wget would ignore timeout's SIGTERM.
    static func fetch(_ url: String, seconds: Int) -> [String] {
        ["sh", "-c", "timeout \(seconds) wget -qO- \(url) || exit 1"]
    }

    static func curl(_ url: String) -> CommandResult {
        run("/usr/bin/curl", ["-s", "-m", "5", "--retry", "3", "--retry-connrefused", "--retry-delay", "0", url])
    }

    /// An A query over TCP (two-byte length, then the message); the addresses in the answer.
    static func tcpLookup(_ name: String, server: String) -> [String]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(53).bigEndian)
        guard inet_pton(AF_INET, server, &address.sin_addr) == 1 else { return nil }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var query: [UInt8] = [0x42, 0x42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { query += [UInt8(label.utf8.count)] + Array(label.utf8) }
        query += [0, 0, 1, 0, 1]
        let message = [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query
        guard message.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == message.count else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while answer.count < 2 || answer.count < 2 + (Int(answer[0]) << 8 | Int(answer[1])) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            answer += buffer[0..<count]
        }
        let records = Int(answer[2 + 6]) << 8 | Int(answer[2 + 7])
        // Each answer ends with its 4-byte address (the server writes A records only, name compressed).
        return (0..<records).map { index in
            let end = answer.count - (records - 1 - index) * 16
            return answer[(end - 4)..<end].map(String.init).joined(separator: ".")
        }
    }

    static func links() -> String { run("/usr/sbin/ip", ["-o", "link", "show"]).stdout }

    static func nftTables() -> String { run("/usr/sbin/nft", ["list", "tables"]).stdout }

    /// Stops the daemon, then checks that its bridges, veth pairs and rules are gone.
    static func stopAndExpectClean(_ daemon: TestDaemon, devices: [String] = []) {
        let bridge = daemon.bridge
        daemon.stop()
        let links = links()
        for device in [bridge] + devices {
            #expect(!links.contains(" \(device):") && !links.contains(" \(device)@"), "\(device) left behind: \(links)")
        }
        #expect(!links.contains("master \(bridge) "), "veth left on \(bridge)")
        #expect(!nftTables().contains("pier_" + bridge.replacingOccurrences(of: "-", with: "_")), "nftables table left")
    }

    @Test func publishedPortAnswersOnLoopback() throws {
        try requirePeer("curl")
        let daemon = try TestDaemon()
        defer { NetworkTests.stopAndExpectClean(daemon) }
        try daemon.bootstrapBusybox()
        let port = NetworkTests.freePort()
        let web = daemon.pier(["run", "-d", "--name", "web", "-e", "MESSAGE=hello from pier", "-p", "127.0.0.1:\(port):80",
                               "busybox"] + NetworkTests.webServer)
        #expect(web.status == 0, "\(web)")
        let page = NetworkTests.curl("http://127.0.0.1:\(port)/")
        #expect(page.stdout == "hello from pier\n", "\(page)\n\(daemon.log())")
        #expect(daemon.pier(["port", "web"]).stdout == "80/tcp -> 127.0.0.1:\(port)\n")
        #expect(daemon.pier(["port", "web", "80"]).stdout == "127.0.0.1:\(port)\n")
        let ps = daemon.pier(["ps", "--format", "{{.Ports}}"])
        #expect(ps.stdout == "127.0.0.1:\(port)->80/tcp\n", "\(ps)")
        let inspect = daemon.pier(["inspect", "--format", "{{json .NetworkSettings.Ports}}", "web"])
        #expect(inspect.stdout == "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\(port)\"}]}\n", "\(inspect)")

        // The same host port again: refused, naming the port; nothing half-made.
        let taken = daemon.pier(["run", "-d", "--name", "web2", "-p", "127.0.0.1:\(port):80", "busybox", "sleep", "30"])
        #expect(taken.status == 125, "\(taken)")
        #expect(taken.stderr.contains("127.0.0.1:\(port)"), "\(taken)")
        #expect(taken.stderr.contains("port is already allocated"), "\(taken)")
        #expect(daemon.pier(["ps", "-a", "--filter", "name=web2", "--format", "{{.Status}}"]).stdout.hasPrefix("Created"))
        #expect(NetworkTests.curl("http://127.0.0.1:\(port)/").stdout == "hello from pier\n")

        // A port held by a program that is not pier: refused with the holder named.
        let other = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let otherPort = NetworkTests.freePort()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(otherPort).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(other, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(other, 1)
        defer { close(other) }
        let held = daemon.pier(["run", "--rm", "-p", "\(otherPort):80", "busybox", "true"])
        #expect(held.status == 125, "\(held)")
        #expect(held.stderr.contains("0.0.0.0:\(otherPort)") && held.stderr.contains("held by"), "\(held)")

        // Bad -p specs: clear errors, exit 125, no container.
        for spec in ["abc:80", "80:xyz", "1.2.3:80:80", "80/quic", "70000:80"] {
            let bad = daemon.pier(["run", "--rm", "-p", spec, "busybox", "true"])
            #expect(bad.status == 125, "\(spec): \(bad)")
            #expect(bad.stderr.contains("\"\(spec)\"") && bad.stderr.contains("--publish"), "\(spec): \(bad)")
        }

        #expect(daemon.pier(["rm", "-f", "web", "web2"]).status == 0)
        #expect(NetworkTests.curl("http://127.0.0.1:\(port)/").stdout.isEmpty)
        #expect(!NetworkTests.links().contains("master \(daemon.bridge) "), "veth left after rm")
    }

    @Test func publishAllAndDefaultBridge() throws {
        let daemon = try TestDaemon()
        defer { NetworkTests.stopAndExpectClean(daemon) }
        try daemon.bootstrapBusybox()
        let started = daemon.pier(["run", "-d", "--name", "exposed", "--expose", "80", "--expose", "9000/udp", "-P",
                                   "-e", "MESSAGE=published", "busybox"] + NetworkTests.webServer)
        #expect(started.status == 0, "\(started)")
        let lines = daemon.pier(["port", "exposed"]).stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("80/tcp -> 0.0.0.0:") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("9000/udp -> 0.0.0.0:") == true, "\(lines)")
        if let hostPort = lines.first?.split(separator: ":").last {
            #expect(NetworkTests.curl("http://127.0.0.1:\(hostPort)/").stdout == "published\n")
        }
        // The default bridge: an address, a default route, and the host's resolvers.
        let inside = daemon.pier(["run", "--rm", "busybox", "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf"])
        #expect(inside.status == 0, "\(inside)")
        #expect(inside.stdout.contains("eth0    inet ") || inside.stdout.contains("eth0 inet "), "\(inside)")
        #expect(inside.stdout.contains("default via "), "\(inside)")
        #expect(inside.stdout.contains("nameserver "), "\(inside)")
        #expect(!inside.stdout.contains("nameserver 127."), "\(inside)")
        // The container reaches a server the host runs on the bridge's gateway (its way out).
        let gateway = daemon.pier(["network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}", "bridge"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let hostPort = lines.first?.split(separator: ":").last.map(String.init) ?? ""
        let viaGateway = daemon.pier(["run", "--rm", "busybox"] + NetworkTests.fetch("http://\(gateway):\(hostPort)/", seconds: 10))
        #expect(viaGateway.stdout == "published\n", "\(viaGateway)")
        #expect(daemon.pier(["rm", "-f", "exposed"]).status == 0)
    }

    @Test func publishedPortSurvivesDaemonKill() throws {
        try requirePeer("curl")
        let daemon = try TestDaemon()
        defer { NetworkTests.stopAndExpectClean(daemon) }
        try daemon.bootstrapBusybox()
        let port = NetworkTests.freePort()
        #expect(daemon.pier(["run", "-d", "--name", "web", "-p", "127.0.0.1:\(port):80", "-e", "MESSAGE=still here", "busybox"]
                            + NetworkTests.webServer).status == 0)
        #expect(NetworkTests.curl("http://127.0.0.1:\(port)/").stdout == "still here\n")
        let address = daemon.pier(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "web"]).stdout
        daemon.kill()
        // The kernel's rules outlive pierd: the server still answers.
        #expect(NetworkTests.curl("http://127.0.0.1:\(port)/").stdout == "still here\n")
        let restarted = try daemon.restart()
        defer { NetworkTests.stopAndExpectClean(restarted) }
        #expect(NetworkTests.curl("http://127.0.0.1:\(port)/").stdout == "still here\n")
        #expect(restarted.pier(["port", "web"]).stdout == "80/tcp -> 127.0.0.1:\(port)\n")
        // Its address is still its own: the next container gets another one.
        #expect(restarted.pier(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "web"]).stdout == address)
        let next = restarted.pier(["run", "--rm", "busybox", "sh", "-c", "ip -o -4 addr show eth0"])
        #expect(next.status == 0 && !next.stdout.contains("inet \(address.trimmingCharacters(in: .newlines))/"), "\(next)")
        let again = restarted.pier(["run", "--rm", "-p", "127.0.0.1:\(port):80", "busybox", "true"])
        #expect(again.status == 125 && again.stderr.contains("port is already allocated"), "\(again)")
        #expect(restarted.pier(["rm", "-f", "web"]).status == 0)
    }

    @Test func addressesAndResolverFiles() throws {
        let daemon = try TestDaemon()
        var devices: [String] = []
        defer { NetworkTests.stopAndExpectClean(daemon, devices: devices) }
        try daemon.bootstrapBusybox()
        #expect(daemon.pier(["network", "create", "--subnet", "10.232.0.0/24", "--gateway", "10.232.0.254", "fixed"]).status == 0)
        devices.append("pbr-" + String(daemon.pier(["network", "inspect", "--format", "{{.Id}}", "fixed"]).stdout.prefix(11)))
        let fixed = daemon.pier(["run", "--rm", "--network", "fixed", "--ip", "10.232.0.50", "--add-host", "gw:host-gateway",
                                 "--hostname", "box", "busybox", "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf"])
        #expect(fixed.status == 0, "\(fixed)")
        #expect(fixed.stdout.contains("inet 10.232.0.50/24"), "\(fixed)")
        #expect(fixed.stdout.contains("default via 10.232.0.254"), "\(fixed)")
        #expect(fixed.stdout.contains("10.232.0.254\tgw\n"), "\(fixed)")
        #expect(fixed.stdout.contains("10.232.0.50\tbox\n"), "\(fixed)")
        #expect(fixed.stdout.contains("nameserver 10.232.0.254\n"), "\(fixed)")
        let onBridge = daemon.pier(["run", "--rm", "--ip", "172.30.0.9", "busybox", "true"])
        #expect(onBridge.status == 125 && onBridge.stderr.contains("user defined networks"), "\(onBridge)")
        let outside = daemon.pier(["run", "--rm", "--network", "fixed", "--ip", "10.9.9.9", "busybox", "true"])
        #expect(outside.status == 125, "\(outside)")
        let dns = daemon.pier(["run", "--rm", "--dns", "192.0.2.53", "--dns-search", "example.test", "busybox", "cat", "/etc/resolv.conf"])
        #expect(dns.stdout == "nameserver 192.0.2.53\nsearch example.test\n", "\(dns)")
        #expect(daemon.pier(["network", "rm", "fixed"]).status == 0)
    }

    @Test func networkNoneHasOnlyLoopback() throws {
        let daemon = try TestDaemon()
        defer { NetworkTests.stopAndExpectClean(daemon) }
        try daemon.bootstrapBusybox()
        let none = daemon.pier(["run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net"])
        #expect(none.status == 0, "\(none)")
        #expect(none.stdout == "lo\n", "\(none)")
        let host = daemon.pier(["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"])
        #expect(host.stdout.contains("lo\n") && host.stdout.split(separator: "\n").count > 1, "\(host)")
        let unknown = daemon.pier(["run", "--rm", "--network", "nosuchnet", "busybox", "true"])
        #expect(unknown.status == 125, "\(unknown)")
        #expect(unknown.stderr.contains("network nosuchnet not found"), "\(unknown)")
    }

    @Test func userNetworksResolveNamesAndIsolate() throws {
        let daemon = try TestDaemon()
        var devices: [String] = []
        defer { NetworkTests.stopAndExpectClean(daemon, devices: devices) }
        try daemon.bootstrapBusybox()
        let front = daemon.pier(["network", "create", "--label", "tier=front", "front"])
        #expect(front.status == 0, "\(front)")
        #expect(daemon.pier(["network", "create", "--internal", "back"]).status == 0)
        for name in ["front", "back"] {
            let id = daemon.pier(["network", "inspect", "--format", "{{.Id}}", name]).stdout
            devices.append("pbr-" + String(id.prefix(11)))
        }
        let ls = daemon.pier(["network", "ls", "--format", "{{.Name}} {{.Driver}}"])
        #expect(ls.stdout == "back bridge\nbridge bridge\nfront bridge\nhost host\nnone null\n", "\(ls)")
        #expect(daemon.pier(["network", "ls", "-q", "--filter", "label=tier=front"]).stdout.split(separator: "\n").count == 1)
        #expect(daemon.pier(["inspect", "--format", "{{.Driver}} {{.Internal}}", "back"]).stdout == "bridge true\n")

        let db = daemon.pier(["run", "-d", "--name", "db", "--network", "front", "--network-alias", "database",
                              "-e", "MESSAGE=from db", "busybox"] + NetworkTests.webServer)
        #expect(db.status == 0, "\(db)")
        for name in ["db", "database"] {
            let fetched = daemon.pier(["run", "--rm", "--network", "front", "busybox"] + NetworkTests.fetch("http://\(name)/", seconds: 10))
            #expect(fetched.stdout == "from db\n", "\(name): \(fetched)\n\(daemon.log())")
        }
        let address = daemon.pier(["inspect", "--format", "{{.NetworkSettings.Networks.front.IPAddress}}", "db"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!address.isEmpty)
        // The same names over TCP, as a resolver retries after a truncated answer.
        let frontGateway = daemon.pier(["network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}", "front"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(NetworkTests.tcpLookup("database", server: frontGateway) == [address])
        // Another network: neither the name nor the address is reachable.
        let byName = daemon.pier(["run", "--rm", "--network", "back", "busybox"] + NetworkTests.fetch("http://db/", seconds: 3))
        #expect(byName.status != 0, "\(byName)")
        let byAddress = daemon.pier(["run", "--rm", "--network", "back", "busybox"] + NetworkTests.fetch("http://\(address)/", seconds: 3))
        #expect(byAddress.status != 0, "\(byAddress)")
        // The default bridge cannot reach it either.
        let fromBridge = daemon.pier(["run", "--rm", "busybox"] + NetworkTests.fetch("http://\(address)/", seconds: 3))
        #expect(fromBridge.status != 0, "\(fromBridge)")

        // connect: the container on `back` joins `front` with an alias and reaches db.
        #expect(daemon.pier(["run", "-d", "--name", "worker", "--network", "back", "busybox", "sleep", "60"]).status == 0)
        #expect(daemon.pier(["network", "connect", "--alias", "jobs", "front", "worker"]).status == 0)
        let joined = daemon.pier(["exec", "worker", "timeout", "5", "wget", "-qO-", "http://db/"])
        #expect(joined.stdout == "from db\n", "\(joined)")
        let lookup = daemon.pier(["exec", "db", "nslookup", "jobs"])
        #expect(lookup.status == 0 && lookup.stdout.contains("Address"), "\(lookup)")
        #expect(daemon.pier(["network", "disconnect", "front", "worker"]).status == 0)
        #expect(daemon.pier(["exec", "worker", "timeout", "3", "wget", "-qO-", "http://\(address)/"]).status != 0)

        // Bad input: overlapping subnet, a name in use, removing a network in use or a built-in one.
        #expect(daemon.pier(["network", "create", "--subnet", "10.231.0.0/24", "one"]).status == 0)
        devices.append("pbr-" + String(daemon.pier(["network", "inspect", "--format", "{{.Id}}", "one"]).stdout.prefix(11)))
        let overlap = daemon.pier(["network", "create", "--subnet", "10.231.0.128/25", "two"])
        #expect(overlap.status == 1 && overlap.stderr.contains("overlaps"), "\(overlap)")
        let duplicate = daemon.pier(["network", "create", "front"])
        #expect(duplicate.status == 1 && duplicate.stderr.contains("already exists"), "\(duplicate)")
        let inUse = daemon.pier(["network", "rm", "front"])
        #expect(inUse.status == 1 && inUse.stderr.contains("active endpoints"), "\(inUse)")
        let builtin = daemon.pier(["network", "rm", "bridge"])
        #expect(builtin.status == 1 && builtin.stderr.contains("pre-defined"), "\(builtin)")
        let badSubnet = daemon.pier(["network", "create", "--subnet", "10.0.0.300/24", "three"])
        #expect(badSubnet.status == 1 && badSubnet.stderr.contains("invalid subnet"), "\(badSubnet)")
        #expect(daemon.pier(["network", "ls", "-q"]).stdout.split(separator: "\n").count == 6)

        #expect(daemon.pier(["rm", "-f", "db", "worker"]).status == 0)
        #expect(daemon.pier(["network", "rm", "one"]).stdout == "one\n")
        let pruned = daemon.pier(["network", "prune", "-f"])
        #expect(pruned.stdout.contains("front") && pruned.stdout.contains("back"), "\(pruned)")
        #expect(daemon.pier(["network", "ls", "-q"]).stdout.split(separator: "\n").count == 3)
    }

    /// "Outside", without the internet: a network namespace behind a veth pair from the host,
    /// on its own /24 of the benchmarking range 198.18.0.0/15, serving HTTP with busybox httpd at
    /// `address`:8080. The host reaches it as it would any other network, so containers reach it
    /// only through the host's forwarding and NAT.
    final class OutsideHost {
        let namespace: String
        let hostDevice: String
        let address: String
        let directory: String
        private var server: pid_t?

        init() throws {
            let tag = String(UUID().uuidString.prefix(6)).lowercased()
            let octet = Int.random(in: 1...250)
            namespace = "pt-out-" + tag
            hostDevice = "pto-" + tag
            address = "198.18.\(octet).2"
            directory = NSTemporaryDirectory() + "pier-outside-" + tag
            let ip = "/usr/sbin/ip"
            let steps: [[String]] = [
                ["netns", "add", namespace],
                ["link", "add", hostDevice, "type", "veth", "peer", "name", "eth0", "netns", namespace],
                ["addr", "add", "198.18.\(octet).1/24", "dev", hostDevice],
                ["link", "set", hostDevice, "up"],
                ["netns", "exec", namespace, ip, "addr", "add", "\(address)/24", "dev", "eth0"],
                ["netns", "exec", namespace, ip, "link", "set", "eth0", "up"],
                ["netns", "exec", namespace, ip, "link", "set", "lo", "up"],
                // Replies to any address go back through the host, as on a real network: what
                // keeps a container's packets from arriving is then the host alone.
                ["netns", "exec", namespace, ip, "route", "add", "default", "via", "198.18.\(octet).1"],
            ]
            for step in steps {
                let result = run(ip, step)
                guard result.status == 0 else {
                    remove()
                    throw TestFailure("ip \(step.joined(separator: " ")): \(result)")
                }
            }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: directory + "/index.html", contents: Data("outside\n".utf8))
            server = spawn(ip, ["netns", "exec", namespace, "/bin/busybox", "httpd", "-f", "-p", "8080", "-h", directory],
                           environment: nil, stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
            var tries = 0
            while tries < 50, run("/usr/bin/curl", ["-s", "-m", "1", "http://\(address):8080/"]).stdout != "outside\n" {
                tries += 1
                usleep(100_000)
            }
        }

        /// Stops the server and removes the namespace (which takes the veth pair with it).
        func remove() {
            if let server {
                // SIGKILL: the test process's spawns inherit its blocked signals, SIGTERM among them.
                kill(server, SIGKILL)
                _ = waitForExit(server)
            }
            server = nil
            _ = run("/usr/sbin/ip", ["netns", "del", namespace])
            _ = run("/usr/sbin/ip", ["link", "del", hostDevice])
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func internalNetworksHaveNoWayOut() throws {
        try requirePeer("curl")
        let outside = try OutsideHost()
        defer {
            outside.remove()
            #expect(!NetworkTests.links().contains(outside.hostDevice), "veth to the outside left behind")
            #expect(!run("/usr/sbin/ip", ["netns", "list"]).stdout.contains(outside.namespace), "netns left behind")
        }
        #expect(run("/usr/bin/curl", ["-s", "-m", "5", "http://\(outside.address):8080/"]).stdout == "outside\n",
                "the host cannot reach the outside namespace: the test's own set-up failed")
        let daemon = try TestDaemon()
        var devices: [String] = []
        defer { NetworkTests.stopAndExpectClean(daemon, devices: devices) }
        try daemon.bootstrapBusybox()
        let url = "http://\(outside.address):8080/"

        // The default bridge and a plain user network get out (through the host's NAT) ...
        let bridged = daemon.pier(["run", "--rm", "busybox"] + NetworkTests.fetch(url, seconds: 10))
        #expect(bridged.stdout == "outside\n", "\(bridged)\n\(daemon.log())")
        #expect(daemon.pier(["network", "create", "open"]).status == 0)
        #expect(daemon.pier(["network", "create", "--internal", "sealed"]).status == 0)
        for name in ["open", "sealed"] {
            devices.append("pbr-" + String(daemon.pier(["network", "inspect", "--format", "{{.Id}}", name]).stdout.prefix(11)))
        }
        let open = daemon.pier(["run", "--rm", "--network", "open", "busybox"] + NetworkTests.fetch(url, seconds: 10))
        #expect(open.stdout == "outside\n", "\(open)")

        // ... an --internal network does not: no route out, and the host forwards nothing for it.
        let sealed = daemon.pier(["run", "--rm", "--network", "sealed", "busybox"] + NetworkTests.fetch(url, seconds: 3))
        #expect(sealed.status != 0 && !sealed.stdout.contains("outside"), "\(sealed)")
        let routes = daemon.pier(["run", "--rm", "--network", "sealed", "busybox", "ip", "route"])
        #expect(routes.status == 0 && !routes.stdout.contains("default"), "\(routes)")
        // Even a route added by hand (with NET_ADMIN) finds the host's forwarding closed.
        let gateway = daemon.pier(["network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}", "sealed"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let forced = daemon.pier(["run", "--rm", "--cap-add", "NET_ADMIN", "--network", "sealed", "busybox", "sh", "-c",
                                  "ip route add default via \(gateway) && timeout 3 wget -qO- \(url) || exit 1"])
        #expect(forced.status != 0 && !forced.stdout.contains("outside"), "\(forced)")
        // Containers on the same internal network still reach each other.
        #expect(daemon.pier(["run", "-d", "--name", "inside", "--network", "sealed", "-e", "MESSAGE=inside",
                             "busybox"] + NetworkTests.webServer).status == 0)
        let neighbour = daemon.pier(["run", "--rm", "--network", "sealed", "busybox"]
                                    + NetworkTests.fetch("http://inside/", seconds: 10))
        #expect(neighbour.stdout == "inside\n", "\(neighbour)")
        #expect(daemon.pier(["rm", "-f", "inside"]).status == 0)
        #expect(daemon.pier(["network", "rm", "open", "sealed"]).status == 0)
    }

    @Test func dockerCLINetworks() throws {
        try requirePeer("docker")
        let daemon = try TestDaemon()
        var devices: [String] = []
        defer { NetworkTests.stopAndExpectClean(daemon, devices: devices) }
        try daemon.bootstrapBusybox()
        let created = daemon.docker(["network", "create", "n"])
        #expect(created.status == 0, "\(created)")
        devices.append("pbr-" + String(created.stdout.prefix(11)))
        let db = daemon.docker(["run", "-d", "--network", "n", "--name", "db", "-e", "MESSAGE=docker db", "busybox"]
                               + NetworkTests.webServer)
        #expect(db.status == 0, "\(db)")
        let fetched = daemon.docker(["run", "--rm", "--network", "n", "busybox"] + NetworkTests.fetch("http://db", seconds: 10))
        #expect(fetched.stdout == "docker db\n", "\(fetched)")
        let port = NetworkTests.freePort()
        #expect(daemon.docker(["run", "-d", "--name", "pub", "-p", "127.0.0.1:\(port):80", "-e", "MESSAGE=x", "busybox"]
                              + NetworkTests.webServer).status == 0)
        let listed = daemon.docker(["port", "pub"])
        #expect(listed.stdout == "80/tcp -> 127.0.0.1:\(port)\n", "\(listed)")
        let ls = daemon.docker(["network", "ls", "--format", "{{.Name}}"])
        #expect(ls.stdout.contains("n\n") && ls.stdout.contains("bridge\n"), "\(ls)")
        let inspect = daemon.docker(["network", "inspect", "n", "--format", "{{len .Containers}}"])
        #expect(inspect.stdout == "1\n", "\(inspect)")
        #expect(daemon.docker(["rm", "-f", "db", "pub"]).status == 0)
        #expect(daemon.docker(["network", "rm", "n"]).status == 0)
    }
}
