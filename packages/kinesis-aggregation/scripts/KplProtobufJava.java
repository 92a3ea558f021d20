// Cross-check of the KPL aggregated-record format against Google's protobuf-java runtime (the one the KCL uses),
// following the KCL's AggregatorUtil: magic, MD5 over the protobuf bytes, proto2 parse (required fields enforced).
//
//   java -cp protobuf-java-4.x.jar KplProtobufJava.java decode <file>     prints "pk<TAB>ehk<TAB>base64(data)" per record
//   java -cp protobuf-java-4.x.jar KplProtobufJava.java encode <in> <out> reads such lines, writes an aggregate
//
// Used by check-protobuf-java.mjs; not part of the package.
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class KplProtobufJava {
  static final byte[] MAGIC = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};

  static FieldDescriptorProto field(String name, int number, Label label, Type type, String typeName) {
    FieldDescriptorProto.Builder b = FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setLabel(label).setType(type);
    if (typeName != null) b.setTypeName(typeName);
    return b.build();
  }

  static Descriptor aggregatedRecord() throws Exception {
    FileDescriptorProto file = FileDescriptorProto.newBuilder()
        .setName("messages.proto").setSyntax("proto2")
        .addMessageType(DescriptorProto.newBuilder().setName("Tag")
            .addField(field("key", 1, Label.LABEL_REQUIRED, Type.TYPE_STRING, null))
            .addField(field("value", 2, Label.LABEL_OPTIONAL, Type.TYPE_STRING, null)))
        .addMessageType(DescriptorProto.newBuilder().setName("Record")
            .addField(field("partition_key_index", 1, Label.LABEL_REQUIRED, Type.TYPE_UINT64, null))
            .addField(field("explicit_hash_key_index", 2, Label.LABEL_OPTIONAL, Type.TYPE_UINT64, null))
            .addField(field("data", 3, Label.LABEL_REQUIRED, Type.TYPE_BYTES, null))
            .addField(field("tags", 4, Label.LABEL_REPEATED, Type.TYPE_MESSAGE, ".Tag")))
        .addMessageType(DescriptorProto.newBuilder().setName("AggregatedRecord")
            .addField(field("partition_key_table", 1, Label.LABEL_REPEATED, Type.TYPE_STRING, null))
            .addField(field("explicit_hash_key_table", 2, Label.LABEL_REPEATED, Type.TYPE_STRING, null))
            .addField(field("records", 3, Label.LABEL_REPEATED, Type.TYPE_MESSAGE, ".Record")))
        .build();
    return FileDescriptor.buildFrom(file, new FileDescriptor[0]).findMessageTypeByName("AggregatedRecord");
  }

  public static void main(String[] args) throws Exception {
    Descriptor agg = aggregatedRecord();
    Descriptor rec = agg.findFieldByName("records").getMessageType();
    if (args[0].equals("decode")) {
      byte[] all = Files.readAllBytes(Path.of(args[1]));
      if (all.length < 20 || !Arrays.equals(Arrays.copyOfRange(all, 0, 4), MAGIC)) throw new IllegalStateException("no magic");
      byte[] proto = Arrays.copyOfRange(all, 4, all.length - 16);
      byte[] md5 = MessageDigest.getInstance("MD5").digest(proto);
      if (!Arrays.equals(md5, Arrays.copyOfRange(all, all.length - 16, all.length))) throw new IllegalStateException("md5 mismatch");
      DynamicMessage m = DynamicMessage.parseFrom(agg, proto); // throws if a required field is missing
      List<?> pks = (List<?>) m.getField(agg.findFieldByName("partition_key_table"));
      List<?> ehks = (List<?>) m.getField(agg.findFieldByName("explicit_hash_key_table"));
      StringBuilder out = new StringBuilder();
      for (Object o : (List<?>) m.getField(agg.findFieldByName("records"))) {
        DynamicMessage r = (DynamicMessage) o;
        String pk = (String) pks.get(((Long) r.getField(rec.findFieldByName("partition_key_index"))).intValue());
        String ehk = r.hasField(rec.findFieldByName("explicit_hash_key_index"))
            ? (String) ehks.get(((Long) r.getField(rec.findFieldByName("explicit_hash_key_index"))).intValue()) : "";
        byte[] data = ((ByteString) r.getField(rec.findFieldByName("data"))).toByteArray();
        out.append(Base64.getEncoder().encodeToString(pk.getBytes(StandardCharsets.UTF_8))).append('\t')
            .append(ehk).append('\t').append(Base64.getEncoder().encodeToString(data)).append('\n');
      }
      System.out.print(out);
    } else {
      // encode: keys deduplicated in first-seen order, as the KPL does
      Map<String, Integer> pkIndex = new LinkedHashMap<>();
      Map<String, Integer> ehkIndex = new LinkedHashMap<>();
      List<DynamicMessage> records = new ArrayList<>();
      for (String line : Files.readAllLines(Path.of(args[1]))) {
        if (line.isEmpty()) continue;
        String[] p = line.split("\t", -1);
        String pk = new String(Base64.getDecoder().decode(p[0]), StandardCharsets.UTF_8);
        DynamicMessage.Builder r = DynamicMessage.newBuilder(rec)
            .setField(rec.findFieldByName("partition_key_index"), (long) pkIndex.computeIfAbsent(pk, k -> pkIndex.size()))
            .setField(rec.findFieldByName("data"), ByteString.copyFrom(Base64.getDecoder().decode(p[2])));
        if (!p[1].isEmpty()) {
          r.setField(rec.findFieldByName("explicit_hash_key_index"), (long) ehkIndex.computeIfAbsent(p[1], k -> ehkIndex.size()));
        }
        records.add(r.build());
      }
      DynamicMessage.Builder m = DynamicMessage.newBuilder(agg);
      for (String k : pkIndex.keySet()) m.addRepeatedField(agg.findFieldByName("partition_key_table"), k);
      for (String k : ehkIndex.keySet()) m.addRepeatedField(agg.findFieldByName("explicit_hash_key_table"), k);
      for (DynamicMessage r : records) m.addRepeatedField(agg.findFieldByName("records"), r);
      byte[] proto = m.build().toByteArray();
      byte[] md5 = MessageDigest.getInstance("MD5").digest(proto);
      byte[] out = new byte[4 + proto.length + 16];
      System.arraycopy(MAGIC, 0, out, 0, 4);
      System.arraycopy(proto, 0, out, 4, proto.length);
      System.arraycopy(md5, 0, out, 4 + proto.length, 16);
      Files.write(Path.of(args[2]), out);
    }
  }
}
