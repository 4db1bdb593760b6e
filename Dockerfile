# syntax=docker/dockerfile:1
#
# Frontdesk in a container: a static binary on a distroless base, run as
# an unprivileged user, with its data in the /data volume.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t frontdesk .
#   docker run -d --name frontdesk -p 8080:8080 -v frontdesk-data:/data frontdesk
#
# Other commands run the same image: docker run --rm -it -v frontdesk-data:/data frontdesk agent add ...
# (with the server container stopped, as they open the database file).

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a change in our code reuses the downloaded ones.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/frontdesk ./cmd/frontdesk
# An empty data directory for the volume, owned by the user below, so that
# a new named volume starts out writable by it.
RUN mkdir -p /out/data

# distroless/static: CA certificates (Telegram over HTTPS), time zone
# data, /etc/passwd with the nonroot user (65532), and nothing else: no
# shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/frontdesk /usr/local/bin/frontdesk
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/frontdesk"]
CMD ["serve", "--data-dir", "/data", "--addr", ":8080"]
