global using Cluster.Abstractions;
global using Microsoft.Extensions.Logging;
global using Orleans.Runtime;
