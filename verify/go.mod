module github.com/jwtgate/jwtgate/verify

go 1.25.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jwtgate/jwtgate/token v0.0.0
)

require github.com/go-jose/go-jose/v4 v4.1.9 // indirect

replace github.com/jwtgate/jwtgate/token => ../token
