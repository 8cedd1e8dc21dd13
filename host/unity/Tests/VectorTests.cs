// The C# protocol model against the shared test vectors (tests/vectors/), run by
// tests/test_unity_decoder.py as:  mcs ... && mono VectorTests.exe <tests/vectors dir>
// Prints one line per check and exits 1 if any failed.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Gymcorner.Protocol;

public static class VectorTests
{
    static int passed, failed;

    static void Check(bool ok, string what)
    {
        if (ok) passed++; else failed++;
        Console.WriteLine((ok ? "PASS " : "FAIL ") + what);
    }

    static bool Near(double a, double b, double tol) { return Math.Abs(a - b) <= tol; }

    static byte[] Hex(string hex)
    {
        var bytes = new byte[hex.Length / 2];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = byte.Parse(hex.Substring(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return bytes;
    }

    /// <summary>Does the binary-decoded frame say what the vector's JSON says?</summary>
    static string Compare(AvatarFrame f, AvatarFrame j)
    {
        if (f.Seq != j.Seq) return "seq " + f.Seq + " != " + j.Seq;
        if (f.TimeS != j.TimeS) return "t_s differs";
        if (f.Present != j.Present) return "present differs";
        if (f.ViewCode != j.ViewCode || f.ExerciseCode != j.ExerciseCode) return "view/exercise differ";
        if (!f.Present) return null;
        if (f.HeadInterval != j.HeadInterval || !Near(f.HeadDeltaDeg, j.HeadDeltaDeg, 1e-9)) return "head differs";
        if (f.HeadKnown && !Near(f.HeadYawDeg, j.HeadYawDeg, 1e-9)) return "head yaw differs";
        for (int i = 0; i < AvatarFrame.NumLandmarks; i++)
        {
            Vec3 a = f.Landmarks[i], b = j.Landmarks[i];
            if (!Near(a.X, b.X, 1e-9) || !Near(a.Y, b.Y, 1e-9) || !Near(a.Z, b.Z, 1e-9)) return "landmark " + AvatarFrame.LandmarkNames[i] + " differs";
            if (!Near(f.Visibility[i], j.Visibility[i], 0.0005 + 1e-9)) return "visibility " + AvatarFrame.LandmarkNames[i] + " differs";
        }
        for (int b = 0; b < AvatarFrame.NumBones; b++)
        {
            Quat p = f.Bones[b], q = j.Bones[b];
            if (!Near(p.X, q.X, 5e-6) || !Near(p.Y, q.Y, 5e-6) || !Near(p.Z, q.Z, 5e-6) || !Near(p.W, q.W, 5e-6))
                return "bone " + AvatarFrame.BoneNames[b] + " differs";
            double norm = Math.Sqrt(p.X * p.X + p.Y * p.Y + p.Z * p.Z + p.W * p.W);
            if (!Near(norm, 1.0, 1e-4)) return "bone " + AvatarFrame.BoneNames[b] + " is not unit";
        }
        return null;
    }

    static void Throws(Action action, string what)
    {
        try { action(); Check(false, what + " (accepted)"); }
        catch (ProtocolException e) { Check(true, what + ": " + e.Message); }
    }

    public static int Main(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : "tests/vectors";
        var valid = (List<object>)MiniJson.Parse(File.ReadAllText(Path.Combine(dir, "avatar_v1.json")));
        foreach (var item in valid)
        {
            var v = (Dictionary<string, object>)item;
            string name = (string)v["name"];
            byte[] bytes = Hex((string)v["hex"]);
            AvatarFrame fromBytes = AvatarFrame.DecodeBinary(bytes);
            AvatarFrame fromJson = AvatarFrame.FromJsonObject((Dictionary<string, object>)v["json"]);
            string diff = Compare(fromBytes, fromJson);
            Check(diff == null, "vector '" + name + "' (" + bytes.Length + " bytes) decodes to its JSON" + (diff == null ? ": " + fromBytes : ": " + diff));
        }
        var invalid = (List<object>)MiniJson.Parse(File.ReadAllText(Path.Combine(dir, "avatar_v1_invalid.json")));
        foreach (var item in invalid)
        {
            var v = (Dictionary<string, object>)item;
            byte[] bytes = Hex((string)v["hex"]);
            Throws(() => AvatarFrame.DecodeBinary(bytes), "rejects '" + (string)v["name"] + "'");
        }

        var feedback = FeedbackEvent.FromJson("{\"v\": 1, \"id\": \"corner-1-9f3a61c2-42\", \"device\": \"corner-1\", \"t\": 73.533, \"code\": \"knee_valgus\", \"text\": \"Push your knees out over your toes\", \"kind\": \"form\", \"severity\": \"warning\", \"view\": \"frontal\", \"exercise\": \"squat\", \"details\": {\"knee_span_ratio\": 0.61}}");
        Check(feedback.Code == "knee_valgus" && feedback.IsWarning && Near(feedback.T, 73.533, 1e-12) && (double)feedback.Details["knee_span_ratio"] == 0.61,
              "feedback example of docs/protocol.md parses");
        Throws(() => FeedbackEvent.FromJson("{\"v\": 2, \"id\": \"x\"}"), "feedback of an unknown version");
        var status = DeviceStatus.FromJson("{\"v\": 1, \"state\": \"offline\", \"device\": \"corner-1\", \"boot\": \"9f3a61c2\", \"detail\": \"connection lost\"}");
        Check(!status.Online && status.Detail == "connection lost", "status (last will) parses");
        var line = TcpLine.Parse("{\"topic\": \"avatar\", \"payload\": {\"v\": 1, \"seq\": 4294967295, \"t_s\": 12.5, \"present\": false, \"view\": \"frontal\", \"exercise\": \"unknown\"}}");
        var frame = AvatarFrame.FromJsonObject(line.Payload);
        Check(line.Topic == "avatar" && frame.Seq == uint.MaxValue && frame.View == View.Frontal && !frame.Present, "TCP avatar line parses");
        var session = SessionSummary.FromJson("{\"v\": 1, \"device\": \"corner-1\", \"state\": \"ended\", \"reps\": 12, \"events\": {\"knee_valgus\": 3}}");
        Check(session.Reps == 12 && session.Events["knee_valgus"] == 3, "session summary parses");
        var dedup = new FeedbackDeduplicator(2);
        Check(dedup.FirstTime("a") && !dedup.FirstTime("a") && dedup.FirstTime("b") && dedup.FirstTime("c") && dedup.FirstTime("a"),
              "feedback de-duplication keeps the last ids");
        var topics = new DeviceTopics("gymcorner", "corner-1");
        Check(topics.CmdReply == "gymcorner/corner-1/cmd/reply" && topics.Avatar == "gymcorner/corner-1/avatar", "topic names");

        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
