# One image for the silo host and the command-line client (the k8s manifests choose which runs):
#   docker build -t scheduler:latest .
# /app/silo/Scheduler.Silo.dll, /app/client/Scheduler.Client.dll, and the scenarios in /app/scenarios.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Silo -c Release -o /app/silo \
 && dotnet publish src/Client -c Release -o /app/client

# The silo serves the Orleans Dashboard through ASP.NET Core, so the runtime is the ASP.NET Core one.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app/silo /app/silo
COPY --from=build /app/client /app/client
COPY scenarios /app/scenarios
EXPOSE 11111 30000
ENTRYPOINT []
CMD ["dotnet", "/app/silo/Scheduler.Silo.dll"]
