// Unity only (needs UnityEngine and the MQTTnet 4.x package): subscribes to one device's
// topics and hands decoded messages to the main thread.
//
// Why MQTTnet rather than M2Mqtt: MQTTnet is maintained (M2Mqtt's last release is from
// 2017), targets .NET Standard 2.0/2.1 which Unity 2021+ loads as a plain DLL, supports
// MQTT 3.1.1 and 5, TLS and WebSockets, and is async, so the network never runs on Unity's
// main thread. Install: NuGet package MQTTnet 4.3.x, copy lib/netstandard2.1/MQTTnet.dll
// into Assets/Plugins (or use NuGetForUnity).
//
// Threading: MQTTnet calls back on a thread-pool thread. Payloads are decoded there (pure
// C#, see Protocol/) and queued; Unity objects are touched only in Update(), on the main
// thread, by whoever drains the queues (AvatarDriver, FeedbackUi).
using System;
using System.Collections.Concurrent;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Gymcorner.Protocol;
using MQTTnet;
using MQTTnet.Client;
using UnityEngine;

namespace Gymcorner.Unity
{
    public class GymcornerMqttClient : MonoBehaviour
    {
        [Tooltip("Broker host (the gym's Mosquitto)")] public string host = "localhost";
        public int port = 1883;
        public string baseTopic = "gymcorner";
        public string deviceId = "corner-1";
        [Tooltip("Stable id + persistent session: feedback sent while this app is offline is queued by the broker")]
        public string clientId = "";
        public string username = "";
        public string password = "";

        /// <summary>Newest avatar frame not yet taken by the main thread (older ones are dropped).</summary>
        public readonly ConcurrentQueue<AvatarFrame> Frames = new ConcurrentQueue<AvatarFrame>();
        public readonly ConcurrentQueue<FeedbackEvent> Feedback = new ConcurrentQueue<FeedbackEvent>();
        public volatile DeviceStatus Status;
        public volatile SessionSummary Session;
        public double HeartRateBpm = double.NaN;

        IMqttClient client;
        MqttClientOptions options;
        DeviceTopics topics;
        readonly FeedbackDeduplicator dedup = new FeedbackDeduplicator();
        CancellationTokenSource stop;

        async void Start()
        {
            topics = new DeviceTopics(baseTopic, deviceId);
            stop = new CancellationTokenSource();
            client = new MqttFactory().CreateMqttClient();
            var builder = new MqttClientOptionsBuilder()
                .WithTcpServer(host, port)
                .WithClientId(string.IsNullOrEmpty(clientId) ? "unity-" + Guid.NewGuid().ToString("N").Substring(0, 8) : clientId)
                .WithCleanSession(string.IsNullOrEmpty(clientId));
            if (!string.IsNullOrEmpty(username)) builder = builder.WithCredentials(username, password);
            options = builder.Build();
            client.ApplicationMessageReceivedAsync += e => { OnMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.PayloadSegment.ToArray()); return Task.CompletedTask; };
            client.ConnectedAsync += async e =>
            {
                var subscribe = new MqttClientSubscribeOptionsBuilder()
                    .WithTopicFilter(f => f.WithTopic(topics.Status).WithAtLeastOnceQoS())
                    .WithTopicFilter(f => f.WithTopic(topics.Avatar).WithAtMostOnceQoS())
                    .WithTopicFilter(f => f.WithTopic(topics.Feedback).WithAtLeastOnceQoS())
                    .WithTopicFilter(f => f.WithTopic(topics.Session).WithAtLeastOnceQoS())
                    .WithTopicFilter(f => f.WithTopic(topics.HeartRate).WithAtMostOnceQoS())
                    .Build();
                await client.SubscribeAsync(subscribe, stop.Token);
            };
            client.DisconnectedAsync += async e =>
            {
                if (stop.IsCancellationRequested) return;
                await Task.Delay(TimeSpan.FromSeconds(2));  // the broker may be restarting
                try { await client.ConnectAsync(options, stop.Token); } catch (Exception) { /* next DisconnectedAsync retries */ }
            };
            try { await client.ConnectAsync(options, stop.Token); }
            catch (Exception err) { Debug.LogWarning("gymcorner: broker " + host + ":" + port + " not reachable yet: " + err.Message); }
        }

        void OnMessage(string topic, byte[] payload)
        {
            try
            {
                if (topic == topics.Avatar)
                {
                    // Binary by default; JSON when the device runs with avatar.format = "json".
                    var frame = payload.Length > 0 && payload[0] == (byte)'{'
                        ? AvatarFrame.FromJson(Encoding.UTF8.GetString(payload)) : AvatarFrame.DecodeBinary(payload);
                    Frames.Enqueue(frame);
                    AvatarFrame old;
                    while (Frames.Count > 2 && Frames.TryDequeue(out old)) { }
                }
                else if (topic == topics.Feedback)
                {
                    var e = FeedbackEvent.FromJson(Encoding.UTF8.GetString(payload));
                    if (dedup.FirstTime(e.Id)) Feedback.Enqueue(e);
                }
                else if (topic == topics.Status) Status = DeviceStatus.FromJson(Encoding.UTF8.GetString(payload));
                else if (topic == topics.Session) Session = SessionSummary.FromJson(Encoding.UTF8.GetString(payload));
                else if (topic == topics.HeartRate)
                {
                    var o = JsonFields.Obj(MiniJson.Parse(Encoding.UTF8.GetString(payload)), "heart rate");
                    HeartRateBpm = JsonFields.Num(JsonFields.Get(o, "bpm", "heart rate."), "bpm");
                }
            }
            catch (ProtocolException err)
            {
                Debug.LogWarning("gymcorner: dropped a message on " + topic + ": " + err.Message);
            }
        }

        async void OnDestroy()
        {
            if (stop != null) stop.Cancel();
            if (client != null && client.IsConnected) await client.DisconnectAsync();
        }
    }
}
