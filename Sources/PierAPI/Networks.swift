// Network models of the Engine API v1.41 (swagger: Network, NetworkCreateRequest, IPAM,
// IPAMConfig, NetworkContainer, EndpointSettings, EndpointIPAMConfig, NetworkingConfig).

/// One network as `GET /networks` and `GET /networks/{id}` return it.
public struct NetworkResource: Codable, Sendable {
    public var Name: String
    public var Id: String
    public var Created: String
    public var Scope: String
    public var Driver: String
    public var EnableIPv6: Bool
    public var IPAM: IPAM
    public var Internal: Bool
    public var Attachable: Bool
    public var Ingress: Bool
    public var ConfigFrom: ConfigReference
    public var ConfigOnly: Bool
    public var Containers: [String: NetworkContainer]
    public var Options: [String: String]
    public var Labels: [String: String]

    public struct ConfigReference: Codable, Sendable {
        public var Network: String
        public init(Network: String) { self.Network = Network }
    }

    public init(Name: String, Id: String, Created: String, Driver: String, IPAM: IPAM, Internal: Bool,
                Containers: [String: NetworkContainer], Options: [String: String], Labels: [String: String]) {
        self.Name = Name
        self.Id = Id
        self.Created = Created
        self.Scope = "local"
        self.Driver = Driver
        self.EnableIPv6 = false
        self.IPAM = IPAM
        self.Internal = Internal
        self.Attachable = false
        self.Ingress = false
        self.ConfigFrom = ConfigReference(Network: "")
        self.ConfigOnly = false
        self.Containers = Containers
        self.Options = Options
        self.Labels = Labels
    }
}

public struct IPAM: Codable, Sendable {
    public var Driver: String?
    public var Config: [IPAMConfig]?
    public var Options: [String: String]?
    public init(Driver: String?, Config: [IPAMConfig]?, Options: [String: String]?) {
        self.Driver = Driver
        self.Config = Config
        self.Options = Options
    }
}

public struct IPAMConfig: Codable, Sendable {
    public var Subnet: String?
    public var IPRange: String?
    public var Gateway: String?
    public var AuxiliaryAddresses: [String: String]?
    public init(Subnet: String?, Gateway: String?) {
        self.Subnet = Subnet
        self.Gateway = Gateway
    }
}

public struct NetworkContainer: Codable, Sendable {
    public var Name: String
    public var EndpointID: String
    public var MacAddress: String
    public var IPv4Address: String
    public var IPv6Address: String
    public init(Name: String, EndpointID: String, MacAddress: String, IPv4Address: String) {
        self.Name = Name
        self.EndpointID = EndpointID
        self.MacAddress = MacAddress
        self.IPv4Address = IPv4Address
        self.IPv6Address = ""
    }
}

/// `POST /networks/create` body.
public struct NetworkCreateRequest: Codable, Sendable {
    public var Name: String
    public var CheckDuplicate: Bool?
    public var Driver: String?
    public var Internal: Bool?
    public var Attachable: Bool?
    public var Ingress: Bool?
    public var IPAM: IPAM?
    public var EnableIPv6: Bool?
    public var Options: [String: String]?
    public var Labels: [String: String]?
    public init(Name: String) { self.Name = Name }
}

public struct NetworkCreateResponse: Codable, Sendable {
    public var Id: String
    public var Warning: String
    public init(Id: String, Warning: String) {
        self.Id = Id
        self.Warning = Warning
    }
}

/// `POST /networks/{id}/connect` body.
public struct NetworkConnectRequest: Codable, Sendable {
    public var Container: String
    public var EndpointConfig: EndpointSettings?
    public init(Container: String, EndpointConfig: EndpointSettings?) {
        self.Container = Container
        self.EndpointConfig = EndpointConfig
    }
}

/// `POST /networks/{id}/disconnect` body.
public struct NetworkDisconnectRequest: Codable, Sendable {
    public var Container: String
    public var Force: Bool?
    public init(Container: String, Force: Bool?) {
        self.Container = Container
        self.Force = Force
    }
}

public struct NetworkPruneResponse: Codable, Sendable {
    public var NetworksDeleted: [String]
    public init(NetworksDeleted: [String]) { self.NetworksDeleted = NetworksDeleted }
}

/// `NetworkingConfig` of `POST /containers/create`: the endpoint settings per network.
public struct NetworkingConfig: Codable, Sendable {
    public var EndpointsConfig: [String: EndpointSettings]?
    public init(EndpointsConfig: [String: EndpointSettings]?) { self.EndpointsConfig = EndpointsConfig }
}

public struct EndpointIPAMConfig: Codable, Sendable, Hashable {
    public var IPv4Address: String?
    public var IPv6Address: String?
    public init(IPv4Address: String?) { self.IPv4Address = IPv4Address }
}
