# Portier as a container: a static binary (no cgo: SQLite is modernc's pure Go)
# on distroless, running as the image's non-root user.
#   docker build -t portier .
#   docker run -e DATABASE_URL=… portier migrate    (apply the migrations)
#   docker compose up          (PostgreSQL, the migrations, Portier; see docker-compose.yml)
# A quick try on SQLite in the container: docker run -e PORTIER_AUTO_MIGRATE=true -p 8080:8080 portier

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/portier . \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/portier /portier
# The data directory holds the SQLite file and generated keys when no
# DATABASE_URL / PORTIER_JWT_KEY / PORTIER_PIN_KEY are given; owned by the
# non-root user (65532) so a volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PORT=8080 PORTIER_DATA_DIR=/data
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/portier"]
