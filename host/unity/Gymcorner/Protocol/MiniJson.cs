// A small strict JSON reader, so the protocol model needs no Unity and no NuGet package.
// Values: Dictionary<string, object>, List<object>, string, double, bool, null.
// Why not JsonUtility: it cannot read dictionaries keyed by name (landmarks, bones) and is
// Unity-only, which would keep the model out of the mcs tests.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Gymcorner.Protocol
{
    public class ProtocolException : Exception
    {
        public ProtocolException(string message) : base(message) { }
    }

    public static class MiniJson
    {
        public static object Parse(string text)
        {
            if (text == null) throw new ProtocolException("JSON: null input");
            int i = 0;
            object value = ReadValue(text, ref i, 0);
            SkipSpace(text, ref i);
            if (i != text.Length) throw new ProtocolException("JSON: trailing characters at " + i);
            return value;
        }

        const int MaxDepth = 64;

        static void SkipSpace(string s, ref int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        }

        static object ReadValue(string s, ref int i, int depth)
        {
            if (depth > MaxDepth) throw new ProtocolException("JSON: nested too deeply");
            SkipSpace(s, ref i);
            if (i >= s.Length) throw new ProtocolException("JSON: unexpected end");
            char c = s[i];
            if (c == '{') return ReadObject(s, ref i, depth);
            if (c == '[') return ReadArray(s, ref i, depth);
            if (c == '"') return ReadString(s, ref i);
            if (Literal(s, ref i, "true")) return true;
            if (Literal(s, ref i, "false")) return false;
            if (Literal(s, ref i, "null")) return null;
            return ReadNumber(s, ref i);
        }

        static bool Literal(string s, ref int i, string word)
        {
            if (string.CompareOrdinal(s, i, word, 0, word.Length) != 0) return false;
            i += word.Length;
            return true;
        }

        static Dictionary<string, object> ReadObject(string s, ref int i, int depth)
        {
            var result = new Dictionary<string, object>();
            i++;
            SkipSpace(s, ref i);
            if (i < s.Length && s[i] == '}') { i++; return result; }
            while (true)
            {
                SkipSpace(s, ref i);
                if (i >= s.Length || s[i] != '"') throw new ProtocolException("JSON: expected a key at " + i);
                string key = ReadString(s, ref i);
                SkipSpace(s, ref i);
                if (i >= s.Length || s[i] != ':') throw new ProtocolException("JSON: expected ':' at " + i);
                i++;
                result[key] = ReadValue(s, ref i, depth + 1);
                SkipSpace(s, ref i);
                if (i < s.Length && s[i] == ',') { i++; continue; }
                if (i < s.Length && s[i] == '}') { i++; return result; }
                throw new ProtocolException("JSON: expected ',' or '}' at " + i);
            }
        }

        static List<object> ReadArray(string s, ref int i, int depth)
        {
            var result = new List<object>();
            i++;
            SkipSpace(s, ref i);
            if (i < s.Length && s[i] == ']') { i++; return result; }
            while (true)
            {
                result.Add(ReadValue(s, ref i, depth + 1));
                SkipSpace(s, ref i);
                if (i < s.Length && s[i] == ',') { i++; continue; }
                if (i < s.Length && s[i] == ']') { i++; return result; }
                throw new ProtocolException("JSON: expected ',' or ']' at " + i);
            }
        }

        static string ReadString(string s, ref int i)
        {
            var sb = new StringBuilder();
            i++;
            while (i < s.Length)
            {
                char c = s[i++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (i >= s.Length) break;
                char e = s[i++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (i + 4 > s.Length) throw new ProtocolException("JSON: bad \\u escape");
                        sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: throw new ProtocolException("JSON: bad escape \\" + e);
                }
            }
            throw new ProtocolException("JSON: unterminated string");
        }

        static double ReadNumber(string s, ref int i)
        {
            int start = i;
            while (i < s.Length && "+-0123456789.eE".IndexOf(s[i]) >= 0) i++;
            double value;
            if (i == start || !double.TryParse(s.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out value))
                throw new ProtocolException("JSON: bad value at " + start);
            return value;
        }
    }

    /// <summary>Typed access to parsed JSON objects, with errors that name the field.</summary>
    public static class JsonFields
    {
        public static Dictionary<string, object> Obj(object value, string where)
        {
            var d = value as Dictionary<string, object>;
            if (d == null) throw new ProtocolException(where + " must be an object");
            return d;
        }

        public static object Get(Dictionary<string, object> o, string key, string where)
        {
            object v;
            if (!o.TryGetValue(key, out v)) throw new ProtocolException(where + key + " is missing");
            return v;
        }

        public static double Num(object value, string where)
        {
            if (!(value is double)) throw new ProtocolException(where + " must be a number");
            return (double)value;
        }

        public static string Str(object value, string where)
        {
            var s = value as string;
            if (s == null) throw new ProtocolException(where + " must be a string");
            return s;
        }

        public static string OptStr(Dictionary<string, object> o, string key)
        {
            object v;
            return o.TryGetValue(key, out v) ? v as string : null;
        }

        public static int Version(Dictionary<string, object> o, string what)
        {
            double v = Num(Get(o, "v", what + "."), what + ".v");
            if (v != 1) throw new ProtocolException(what + ": version " + v.ToString(CultureInfo.InvariantCulture) + " is not supported (this reader knows 1)");
            return 1;
        }
    }
}
