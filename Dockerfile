# Cairn: a static binary in a distroless image, running as a non-root user.
# Build: docker build -t cairn .   Run: docker run -e CAIRN_DATABASE_URL=... -p 8080:8080 cairn
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cairn ./cmd/cairn

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cairn /cairn
USER nonroot:nonroot
EXPOSE 8080
ENV CAIRN_ADDR=0.0.0.0:8080 CAIRN_LOG_FORMAT=json CAIRN_DEMO=false
ENTRYPOINT ["/cairn"]
CMD ["serve"]
