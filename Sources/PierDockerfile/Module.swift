// PierDockerfile
