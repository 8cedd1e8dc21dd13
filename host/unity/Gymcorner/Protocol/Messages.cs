// The JSON messages of protocol v1 (docs/protocol.md, docs/schemas/): status, feedback,
// session, and the TCP JSON-lines envelope; topic names; feedback de-duplication by id.
using System;
using System.Collections.Generic;

namespace Gymcorner.Protocol
{
    /// <summary>Topic names of one device, as edge/gymcorner/transport/mqtt.py builds them.</summary>
    public sealed class DeviceTopics
    {
        public readonly string Status, Avatar, Feedback, Session, Cmd, CmdReply, HeartRate;

        public DeviceTopics(string baseTopic, string deviceId)
        {
            string root = baseTopic.TrimEnd('/') + "/" + deviceId;
            Status = root + "/status";
            Avatar = root + "/avatar";
            Feedback = root + "/feedback";
            Session = root + "/session";
            Cmd = root + "/cmd";
            CmdReply = root + "/cmd/reply";
            HeartRate = root + "/wearables/heart_rate";
        }
    }

    public sealed class DeviceStatus
    {
        public string State, Device, Boot, Detail, Exercise;
        public bool Online { get { return State == "online"; } }

        public static DeviceStatus FromJson(string json) { return FromObject(JsonFields.Obj(MiniJson.Parse(json), "status")); }

        public static DeviceStatus FromObject(Dictionary<string, object> o)
        {
            JsonFields.Version(o, "status");
            var s = new DeviceStatus();
            s.State = JsonFields.Str(JsonFields.Get(o, "state", "status."), "status.state");
            if (s.State != "online" && s.State != "offline") throw new ProtocolException("status.state must be online or offline");
            s.Device = JsonFields.Str(JsonFields.Get(o, "device", "status."), "status.device");
            s.Boot = JsonFields.OptStr(o, "boot");
            s.Detail = JsonFields.OptStr(o, "detail");
            s.Exercise = JsonFields.OptStr(o, "exercise");
            return s;
        }
    }

    public sealed class FeedbackEvent
    {
        public string Id, Device, Code, Text, Kind, Severity, View, Exercise;
        public double T;
        public Dictionary<string, object> Details = new Dictionary<string, object>();

        public bool IsWarning { get { return Severity == "warning"; } }

        public static FeedbackEvent FromJson(string json) { return FromObject(JsonFields.Obj(MiniJson.Parse(json), "feedback")); }

        public static FeedbackEvent FromObject(Dictionary<string, object> o)
        {
            JsonFields.Version(o, "feedback");
            var e = new FeedbackEvent();
            e.Id = JsonFields.Str(JsonFields.Get(o, "id", "feedback."), "feedback.id");
            e.T = JsonFields.Num(JsonFields.Get(o, "t", "feedback."), "feedback.t");
            e.Code = JsonFields.Str(JsonFields.Get(o, "code", "feedback."), "feedback.code");
            e.Text = JsonFields.Str(JsonFields.Get(o, "text", "feedback."), "feedback.text");
            e.Kind = JsonFields.Str(JsonFields.Get(o, "kind", "feedback."), "feedback.kind");
            e.Severity = JsonFields.Str(JsonFields.Get(o, "severity", "feedback."), "feedback.severity");
            e.View = JsonFields.Str(JsonFields.Get(o, "view", "feedback."), "feedback.view");
            e.Exercise = JsonFields.Str(JsonFields.Get(o, "exercise", "feedback."), "feedback.exercise");
            e.Device = JsonFields.OptStr(o, "device");
            object details;
            if (o.TryGetValue("details", out details)) e.Details = JsonFields.Obj(details, "feedback.details");
            return e;
        }
    }

    public sealed class SessionSummary
    {
        public string Device, State, Exercise;
        public int Reps = -1;  // -1: not counted
        public Dictionary<string, int> Events = new Dictionary<string, int>();

        public static SessionSummary FromJson(string json) { return FromObject(JsonFields.Obj(MiniJson.Parse(json), "session")); }

        public static SessionSummary FromObject(Dictionary<string, object> o)
        {
            JsonFields.Version(o, "session");
            var s = new SessionSummary();
            s.Device = JsonFields.Str(JsonFields.Get(o, "device", "session."), "session.device");
            s.State = JsonFields.OptStr(o, "state");
            s.Exercise = JsonFields.OptStr(o, "exercise");
            object v;
            if (o.TryGetValue("reps", out v)) s.Reps = (int)JsonFields.Num(v, "session.reps");
            if (o.TryGetValue("events", out v))
                foreach (var kv in JsonFields.Obj(v, "session.events")) s.Events[kv.Key] = (int)JsonFields.Num(kv.Value, "session.events." + kv.Key);
            return s;
        }
    }

    /// <summary>One line of the TCP JSON-lines link: the topic's last part and its payload.</summary>
    public sealed class TcpLine
    {
        public string Topic;
        public Dictionary<string, object> Payload;

        public static TcpLine Parse(string line)
        {
            var o = JsonFields.Obj(MiniJson.Parse(line), "TCP line");
            var l = new TcpLine();
            l.Topic = JsonFields.Str(JsonFields.Get(o, "topic", "TCP line."), "TCP line.topic");
            l.Payload = JsonFields.Obj(JsonFields.Get(o, "payload", "TCP line."), "TCP line.payload");
            return l;
        }
    }

    /// <summary>Feedback is delivered at least once across reconnects: keep the last ids seen.</summary>
    public sealed class FeedbackDeduplicator
    {
        readonly int capacity;
        readonly HashSet<string> seen = new HashSet<string>();
        readonly Queue<string> order = new Queue<string>();

        public FeedbackDeduplicator(int capacity = 4096) { this.capacity = Math.Max(1, capacity); }

        /// <summary>True the first time an id is offered, false for a re-delivery.</summary>
        public bool FirstTime(string id)
        {
            if (!seen.Add(id)) return false;
            order.Enqueue(id);
            if (order.Count > capacity) seen.Remove(order.Dequeue());
            return true;
        }
    }
}
