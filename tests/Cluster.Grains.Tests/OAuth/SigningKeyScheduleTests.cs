using Cluster.Abstractions;
using Cluster.Grains.OAuth;
using Cluster.Grains.State;

namespace Cluster.Grains.Tests.OAuth;

/// <summary>
/// Issue 13: when signing keys start, stop and disappear. A new key is published an hour before it signs; a retired key
/// stays published until every token it signed has expired (6 h + margin); so no live token ever loses its key.
/// </summary>
public sealed class SigningKeyScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Rotation = TimeSpan.FromDays(30);

    [Fact]
    public void TheFirstKeySignsAtOnce()
    {
        var (keep, from) = new SigningKeySchedule(Rotation).Plan([], T0);
        Assert.Empty(keep);
        Assert.Equal(T0, from);
    }

    [Fact]
    public void ANewKeyIsPublishedAnHourBeforeItSignsAndTheOldOneOutlivesItsLastToken()
    {
        var schedule = new SigningKeySchedule(Rotation);
        Assert.Equal(TimeSpan.FromHours(1), schedule.Lead);
        var first = Key("a", T0);

        // Until an hour before the rotation, nothing to do.
        Assert.Null(schedule.Plan([first], T0 + Rotation - TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1)).NewKeySignsFrom);

        // Then the next key, signing at the rotation time (asked later, a lead time after it is made).
        var at = T0 + Rotation - TimeSpan.FromHours(1);
        Assert.Equal(T0 + Rotation, schedule.Plan([first], at).NewKeySignsFrom);
        Assert.Equal(at + TimeSpan.FromMinutes(90), schedule.Plan([first], at + TimeSpan.FromMinutes(30)).NewKeySignsFrom);
        var second = Key("b", T0 + Rotation);

        // Published but not signing yet: the old key signs; both are kept; no further key.
        var (keep, next) = schedule.Plan([first, second], at);
        Assert.Equal(["a", "b"], keep.Select(k => k.KeyId));
        Assert.Null(next);
        Assert.Equal("a", SigningKeySchedule.Current(keep, at).Key.KeyId);
        Assert.Equal(T0 + Rotation, SigningKeySchedule.Current(keep, at).Until);

        // The new key signs from its time; the old one stays published for the longest token lifetime plus the margin.
        Assert.Equal("b", SigningKeySchedule.Current(keep, T0 + Rotation).Key.KeyId);
        var lastTokenExpires = T0 + Rotation + AccessTokenClaims.MaxLifetime;
        Assert.Equal(["a", "b"], schedule.Plan([first, second], lastTokenExpires).Keep.Select(k => k.KeyId));
        Assert.Equal(["b"], schedule.Plan([first, second], lastTokenExpires + SigningKeySchedule.Margin).Keep.Select(k => k.KeyId));
    }

    [Fact]
    public void AnIdleClusterRotatesLateButNeverSignsWithAKeyGatewaysCannotHaveSeen()
    {
        var schedule = new SigningKeySchedule(Rotation);
        var first = Key("a", T0);

        // Nobody asked for 90 days: the next key still starts a lead time after it is made, not in the past.
        var late = T0 + TimeSpan.FromDays(90);
        Assert.Equal(late + schedule.Lead, schedule.Plan([first], late).NewKeySignsFrom);
        Assert.Equal("a", SigningKeySchedule.Current([first, Key("b", late + schedule.Lead)], late).Key.KeyId);
    }

    [Fact]
    public void AShortTestRotationHasAShortLead()
    {
        var schedule = new SigningKeySchedule(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(5), schedule.Lead);
    }

    private static SigningKeyRecord Key(string id, DateTimeOffset signsFrom) => new() { KeyId = id, CreatedAt = signsFrom, SignsFrom = signsFrom };
}
