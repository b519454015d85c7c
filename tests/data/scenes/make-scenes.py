# make-scenes.py: the small scenes the provider tests render, built by Blender.
#
#   blender -b --factory-startup -noaudio --python make-scenes.py -- OUT_DIR PORT MARKER_DIR
#
# writes into OUT_DIR:
#   simple.blend            the factory cube, Cycles, 160x120, frames 1-4
#   slow.blend              simple.blend without adaptive sampling: every sample is
#                           rendered, so a high sample count keeps it busy
#   hostile/hostile.blend   simple.blend plus a text block registered to run on load
#                           that writes into MARKER_DIR, into $HOME and beside
#                           itself, and connects to 127.0.0.1:PORT
#   huge.blend              a cube subdivided 11 times at render time (gigabytes)
#   missing/missing.blend   a material using //textures/missing.png, which is absent
#                           (no adaptive sampling either)
#   reference.png, reference.exr   simple.blend rendered at 160x120, 1 sample
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys

import bpy

out_dir, port, marker_dir = sys.argv[sys.argv.index("--") + 1:]

HOSTILE = """\
import os, socket, bpy
here = os.path.dirname(bpy.data.filepath)
targets = [os.path.join({marker_dir!r}, "written-outside"),
           os.path.join(os.path.expanduser("~"), "kiln-hostile-home"),
           os.path.join(here, "written-beside-scene")]
for target in targets:
    try:
        with open(target, "w") as f:
            f.write("escaped")
    except OSError:
        pass
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as s:
        s.sendall(b"escaped")
except OSError:
    pass
""".format(marker_dir=marker_dir, port=int(port))


def reset():
    bpy.ops.wm.read_factory_settings(use_empty=False)
    scene = bpy.context.scene
    scene.render.engine = 'CYCLES'
    scene.cycles.samples = 4
    scene.render.resolution_x = 160
    scene.render.resolution_y = 120
    scene.render.resolution_percentage = 100
    scene.frame_start = 1
    scene.frame_end = 4
    return scene


def save(name):
    path = os.path.join(out_dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=path, compress=True)


scene = reset()
save("simple.blend")
scene.cycles.use_adaptive_sampling = False
save("slow.blend")
scene.cycles.use_adaptive_sampling = True

scene.cycles.samples = 1
scene.cycles.use_denoising = False
for image_format, name in (('PNG', "reference.png"), ('OPEN_EXR', "reference.exr")):
    scene.render.image_settings.file_format = image_format
    scene.render.filepath = os.path.join(out_dir, name)
    bpy.ops.render.render(write_still=True)

reset()
text = bpy.data.texts.new("hostile.py")
text.write(HOSTILE)
text.use_module = True
save("hostile/hostile.blend")

reset()
subdivision = bpy.data.objects["Cube"].modifiers.new("Subdivision", 'SUBSURF')
subdivision.levels = 1
subdivision.render_levels = 11
save("huge.blend")

scene = reset()
scene.cycles.use_adaptive_sampling = False
image = bpy.data.images.new("missing", 4, 4)
image.source = 'FILE'
image.filepath = "//textures/missing.png"
material = bpy.data.materials.new("Textured")
material.use_nodes = True
texture = material.node_tree.nodes.new("ShaderNodeTexImage")
texture.image = image
material.node_tree.links.new(texture.outputs["Color"],
                             material.node_tree.nodes["Principled BSDF"].inputs["Base Color"])
bpy.data.objects["Cube"].data.materials.append(material)
save("missing/missing.blend")

print("KILN-SCENES-DONE", flush=True)
